/**
 * Long work started from Lab (runs, sweeps, job runs) is a server task; this follows each
 * one's progress (server-sent events, polling if the stream breaks) and tells listeners
 * when it changes and when it ends.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { NbprodApi, ITask } from './api';

const POLL_MS = 700;

export interface IStarted {
  task: ITask;
  /** The notebook (project path) the work is for, and what to call it in messages. */
  notebook: string;
  title: string;
  /** Whether to say so when it ends (work this Lab started). */
  notify: boolean;
}

export class TaskTracker {
  readonly changed = new Signal<TaskTracker, IStarted>(this);
  readonly ended = new Signal<TaskTracker, IStarted>(this);
  private readonly active = new Map<string, IStarted>();

  constructor(private readonly api: NbprodApi) {}

  /** Tasks not yet final for `notebook` (any of them when null). */
  running(notebook: string | null): IStarted[] {
    return [...this.active.values()].filter(
      started => notebook === null || started.notebook === notebook
    );
  }

  has(taskId: string): boolean {
    return this.active.has(taskId);
  }

  /** Follow `task` until it is final. */
  follow(started: IStarted): void {
    if (this.active.has(started.task.task_id) || started.task.final) {
      return;
    }
    this.active.set(started.task.task_id, started);
    this.changed.emit(started);
    void this.watch(started);
  }

  private async watch(started: IStarted): Promise<void> {
    const update = (task: ITask) => {
      started.task = task;
      this.changed.emit(started);
    };
    let last: ITask | null = null;
    try {
      last = await this.stream(started.task.task_id, update);
    } catch {
      last = null; // the stream broke: poll instead
    }
    while (!last || !last.final) {
      await new Promise(resolve => setTimeout(resolve, POLL_MS));
      try {
        last = await this.api.task(started.task.task_id);
        update(last);
      } catch {
        last = { ...started.task, final: true, state: 'error',
          error: { type: 'Lost', message: 'the server forgot this task (restarted?)' } };
      }
    }
    update(last);
    this.active.delete(started.task.task_id);
    this.ended.emit(started);
  }

  /** Read `tasks/ID/events` until a final event; null if the stream ended early. */
  private async stream(taskId: string, update: (task: ITask) => void): Promise<ITask | null> {
    const url = this.api.url('nbprod/api/tasks', encodeURIComponent(taskId), 'events');
    const response = await ServerConnection.makeRequest(url, {}, this.api.settings);
    if (!response.ok || !response.body) {
      return null;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let last: ITask | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        const seen = last as ITask | null;
        return seen && seen.final ? seen : null;
      }
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split('\n')) {
          if (line.startsWith('data: ')) {
            last = JSON.parse(line.slice(6)) as ITask;
            update(last);
          }
        }
        end = buffer.indexOf('\n\n');
      }
      if (last && last.final) {
        await reader.cancel();
        return last;
      }
    }
  }
}

/** What a task is doing, in a few words: "cell 3 of 12: model.fit(...)". */
export function describe(task: ITask): string {
  if (task.kind === 'sweep' && task.points_total) {
    return `${task.points_done ?? 0} of ${task.points_total} points done`;
  }
  const parts: string[] = [];
  if (task.kind === 'job_run' && task.steps_total) {
    parts.push(`step ${Math.min(task.steps_done + 1, task.steps_total)} of ${task.steps_total}`
      + (task.step ? ` (${task.step})` : ''));
  }
  if (task.cells) {
    parts.push(`cell ${task.cell ?? 0} of ${task.cells}`);
  }
  if (task.label) {
    parts.push(task.label);
  }
  return parts.join(' · ') || task.state;
}

/** The fraction done (0..1), or null when unknown. */
export function fraction(task: ITask): number | null {
  if (task.kind === 'sweep' && task.points_total) {
    return (task.points_done ?? 0) / task.points_total;
  }
  if (task.kind === 'job_run' && task.steps_total) {
    const cell = task.cells ? (task.cell ?? 0) / task.cells : 0;
    return Math.min(1, (task.steps_done + cell) / task.steps_total);
  }
  return task.cells ? (task.cell ?? 0) / task.cells : null;
}
