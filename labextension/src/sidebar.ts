/**
 * The nbprod sidebar for the notebook in focus: its parameter contract, the work in progress
 * (cell N of M, elapsed), its recent runs (click: the run's page), its lint findings (click:
 * the cell), its latest test result, and the jobs it is a step of with each stage's version,
 * with Promote / Approve for users whose role allows it.
 */
import { Widget } from '@lumino/widgets';

import {
  ApiError, IJobStep, ILint, INotebookView, IPermissions, IRunSummary, NbprodApi, canPromote
} from './api';
import { promoteDialog, runDialog, sweepDialog } from './dialogs';
import { Child, fill, h, pairs, seconds } from './dom';
import { IStarted, TaskTracker, describe, fraction } from './tasks';

export interface ISidebarHost {
  /** Select and show cell `index` of the notebook in focus. */
  focusCell(index: number): void;
  /** Open a run's page (the dashboard) in a new browser tab. */
  openRun(runId: string): void;
  /** What to say before a run starts (unsaved changes are not in it), or null. */
  runNote(): string | null;
}

interface IState {
  labPath: string | null;
  view: INotebookView | null;
  runs: IRunSummary[];
  lint: ILint | null;
  lintError: string | null;
  error: string | null;
  loading: boolean;
}

const EMPTY: IState = {
  labPath: null, view: null, runs: [], lint: null, lintError: null, error: null, loading: false
};

export class NbprodSidebar extends Widget {
  me: IPermissions | null = null;
  private state: IState = { ...EMPTY };
  private generation = 0;

  constructor(
    private readonly api: NbprodApi,
    private readonly tracker: TaskTracker,
    private readonly host: ISidebarHost
  ) {
    super();
    this.id = 'nbprod-sidebar';
    this.addClass('nbprod-sidebar');
    this.title.caption = 'nbprod: runs, lint, tests, jobs';
    tracker.changed.connect((_, started) => this.onTask(started), this);
    tracker.ended.connect((_, started) => {
      if (started.notebook === this.state.view?.path) {
        void this.refresh();
      }
    }, this);
    this.render();
  }

  /** Shown again (its tab clicked): runs may have been made meanwhile (CLI, widgets). */
  protected onAfterShow(): void {
    if (this.state.labPath) {
      void this.refresh();
    }
  }

  get view(): INotebookView | null {
    return this.state.view;
  }

  /** Show the notebook at `labPath` (a path relative to the server's root), or none. */
  async showNotebook(labPath: string | null): Promise<void> {
    if (labPath !== this.state.labPath) {
      this.state = { ...EMPTY, labPath };
    }
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const labPath = this.state.labPath;
    if (!labPath) {
      this.state = { ...EMPTY };
      this.render();
      return;
    }
    this.state.loading = true;
    this.render();
    let next: IState = { ...this.state, loading: false, error: null };
    try {
      const [me, view] = await Promise.all([this.api.me(), this.api.labNotebook(labPath)]);
      this.me = me;
      const [runs, lint] = await Promise.all([
        this.api.runs(view.path),
        this.api.lint(view.path).catch((error: ApiError) => error)
      ]);
      next = {
        ...next, view, runs: runs.runs,
        lint: lint instanceof ApiError ? null : lint,
        lintError: lint instanceof ApiError ? lint.message : null
      };
      void this.adoptServerTasks(view.path);
    } catch (error) {
      next = { ...EMPTY, labPath, error: error instanceof Error ? error.message : String(error) };
    }
    if (generation === this.generation) {
      this.state = next;
      this.render();
    }
  }

  /** Work on this notebook another tab or window started: shown too (no notification). */
  private async adoptServerTasks(notebook: string): Promise<void> {
    const tasks = await this.api.tasks().catch(() => []);
    for (const task of tasks) {
      if (!task.final && task.target === notebook && !this.tracker.has(task.task_id)) {
        this.tracker.follow({ task, notebook, title: notebook, notify: false });
      }
    }
  }

  private onTask(started: IStarted): void {
    if (started.notebook === this.state.view?.path) {
      const node = this.node.querySelector('.nbprod-progress-list');
      if (node) {
        fill(node as HTMLElement, ...this.progressItems());
      }
    }
  }

  // -- rendering ----------------------------------------------------------------------

  private render(): void {
    const { view, error, labPath, loading } = this.state;
    const header = h(
      'div',
      { class: 'nbprod-header' },
      h('span', { class: 'nbprod-title' }, 'nbprod'),
      h('span', { class: 'nbprod-where' }, view ? view.path : labPath ?? ''),
      h('button', {
        class: 'nbprod-icon-button', title: 'Refresh', 'aria-label': 'Refresh',
        onclick: () => void this.refresh()
      }, '⟳')
    );
    if (!labPath) {
      fill(this.node, header, h('p', { class: 'nbprod-empty' },
        'Open a notebook of the project to see its parameters, runs, lint findings, tests '
        + 'and jobs.'));
      return;
    }
    if (error) {
      fill(this.node, header, h('p', { class: 'nbprod-bad' }, error));
      return;
    }
    if (!view) {
      fill(this.node, header, h('p', { class: 'nbprod-empty' }, loading ? 'Loading…' : ''));
      return;
    }
    fill(
      this.node,
      header,
      this.me ? h('div', { class: 'nbprod-user' }, `as ${this.me.user} · ${roles(this.me)}`)
        : null,
      this.contractSection(view),
      section('In progress', 'progress', h('div', { class: 'nbprod-progress-list' },
        ...this.progressItems())),
      this.runsSection(),
      this.lintSection(),
      this.testSection(view),
      this.jobsSection(view)
    );
  }

  private contractSection(view: INotebookView): HTMLElement {
    const rows = view.contract.map(p =>
      h('li', { class: 'nbprod-param' },
        h('span', { class: 'nbprod-param-name' }, p.name),
        ': ', h('span', { class: 'nbprod-param-type' }, p.type),
        ' = ', h('span', { class: 'nbprod-param-default' }, pythonLiteral(p.default)),
        p.help ? h('div', { class: 'nbprod-param-help' }, p.help) : null));
    const canRun = !!this.me?.run;
    return section(
      'Parameters', 'contract',
      view.problem ? h('p', { class: 'nbprod-bad' }, view.problem) : null,
      rows.length ? h('ul', { class: 'nbprod-contract' }, ...rows)
        : h('p', { class: 'nbprod-empty' }, 'No parameters declared (no cell tagged '
          + '"parameters").'),
      h('div', { class: 'nbprod-actions' },
        h('button', {
          class: 'jp-mod-styled jp-mod-accept nbprod-run-button', disabled: !canRun,
          title: canRun ? 'Run the saved notebook with parameters' : 'your role may not run',
          onclick: () => void runDialog(this.api, view, this.tracker, this.host.runNote())
        }, 'Run with parameters…'),
        h('button', {
          class: 'jp-mod-styled nbprod-sweep-button', disabled: !canRun,
          onclick: () => void sweepDialog(this.api, view, this.tracker, this.host.runNote())
        }, 'Sweep…'))
    );
  }

  private progressItems(): Child[] {
    const view = this.state.view;
    const running = view ? this.tracker.running(view.path) : [];
    if (!running.length) {
      return [h('p', { class: 'nbprod-empty' }, 'Nothing running.')];
    }
    return running.map(({ task, title }) => {
      const done = fraction(task);
      const bar = h('progress', { class: 'nbprod-bar', max: 1 });
      if (done !== null) {
        bar.value = done;
      }
      return h('div', { class: 'nbprod-task', 'data-task': task.task_id },
        h('div', {}, h('b', {}, kindName(task.kind)), ` ${title}`,
          task.run_id ? h('span', { class: 'nbprod-dim' }, ` ${task.run_id}`) : null),
        bar,
        h('div', { class: 'nbprod-task-step' }, describe(task), ` · ${seconds(task.elapsed)}`));
    });
  }

  private runsSection(): HTMLElement {
    const runs = this.state.runs;
    return section(
      'Recent runs', 'runs',
      runs.length ? h('ul', { class: 'nbprod-runs' }, ...runs.map(run =>
        h('li', {
          class: `nbprod-run nbprod-state-${run.state}`, title: 'open the run\'s page',
          'data-run': run.run_id, onclick: () => this.host.openRun(run.run_id)
        },
        h('span', { class: 'nbprod-state' }, stateMark(run.state)),
        h('span', { class: 'nbprod-run-id' }, run.run_id),
        h('span', { class: 'nbprod-dim' }, ` ${seconds(run.duration)}`),
        h('div', { class: 'nbprod-run-values' },
          run.failure ? `${run.failure.kind}: ${run.failure.message}` : pairs(run.values)))))
        : h('p', { class: 'nbprod-empty' }, 'No runs yet.'));
  }

  private lintSection(): HTMLElement {
    const { lint, lintError } = this.state;
    if (lintError) {
      return section('Lint', 'lint', h('p', { class: 'nbprod-bad' }, lintError));
    }
    if (!lint) {
      return section('Lint', 'lint', h('p', { class: 'nbprod-empty' }, '…'));
    }
    return section(
      'Lint', 'lint',
      lint.findings.length ? h('ul', { class: 'nbprod-findings' }, ...lint.findings.map(f =>
        h('li', {
          class: `nbprod-finding nbprod-${f.severity}`,
          title: f.cell === null ? 'the whole notebook' : `go to cell ${f.cell}`,
          'data-cell': f.cell ?? '',
          onclick: () => { if (f.cell !== null) { this.host.focusCell(f.cell); } }
        },
        h('span', { class: 'nbprod-code' }, f.code),
        f.cell !== null ? h('span', { class: 'nbprod-dim' }, ` cell ${f.cell}`
          + (f.line ? `, line ${f.line}` : '')) : null,
        h('div', {}, f.message))))
        : h('p', { class: 'nbprod-ok' }, '✓ no findings (saved file)'));
  }

  private testSection(view: INotebookView): HTMLElement {
    const test = view.test;
    if (!test) {
      return section('Latest test', 'test', h('p', { class: 'nbprod-empty' },
        'Not tested yet: nbprod test ' + view.path));
    }
    return section('Latest test', 'test',
      h('p', { class: test.passed ? 'nbprod-ok' : 'nbprod-bad' },
        test.passed ? '✓ passed' : '✗ failed', ` · ${test.summary}`),
      h('p', { class: 'nbprod-dim' }, `${test.created_at.slice(0, 16).replace('T', ' ')} · `
        + (test.current ? 'this version of the notebook' : 'an older version of the notebook')));
  }

  private jobsSection(view: INotebookView): HTMLElement {
    if (!view.jobs.length) {
      return section('Jobs', 'jobs', h('p', { class: 'nbprod-empty' },
        'Not a step of any job ([tool.nbprod.jobs]).'));
    }
    return section('Jobs', 'jobs', ...view.jobs.map(step => this.jobNode(step)));
  }

  private jobNode(step: IJobStep): HTMLElement {
    const latest = step.latest_version;
    const stages = step.stage_order.map(stage => {
      const version = step.stages[stage];
      const actions: Child[] = [];
      if (latest !== null && version !== latest && canPromote(this.me, stage)) {
        actions.push(h('button', {
          class: 'nbprod-link-button', 'data-promote': stage,
          onclick: () => void this.promote(step, stage, 'promote')
        }, `Promote v${latest}…`));
      }
      if (latest !== null && step.approvals[stage] && this.me?.approve && version !== latest) {
        actions.push(h('button', {
          class: 'nbprod-link-button', 'data-approve': stage,
          onclick: () => void this.promote(step, stage, 'approve')
        }, 'Approve…'));
      }
      return h('tr', {}, h('td', {}, stage),
        h('td', { class: 'nbprod-version' }, version ? `v${version}` : '—'),
        h('td', {}, ...actions));
    });
    return h('div', { class: 'nbprod-job', 'data-job': step.job },
      h('div', { class: 'nbprod-job-title' }, h('b', {}, step.job),
        h('span', { class: 'nbprod-dim' }, ` (step ${step.step})`),
        this.me?.run ? h('button', {
          class: 'nbprod-link-button nbprod-run-job', onclick: () => void this.runJob(step)
        }, 'Run job') : null),
      h('div', { class: 'nbprod-dim' }, latest ? `newest build: v${latest}`
        : 'not built yet: nbprod job build ' + step.job),
      h('table', { class: 'nbprod-stages' }, h('tbody', {}, ...stages)));
  }

  private async promote(step: IJobStep, stage: string, action: 'promote' | 'approve'):
    Promise<void> {
    if (await promoteDialog(this.api, step, stage, this.me, action)) {
      await this.refresh();
    }
  }

  private async runJob(step: IJobStep): Promise<void> {
    try {
      const task = await this.api.startJobRun(step.job);
      this.tracker.follow({ task, notebook: this.state.view?.path ?? '',
        title: step.job, notify: true });
    } catch (error) {
      this.state.error = error instanceof Error ? error.message : String(error);
      this.render();
    }
  }
}

/** A JSON value as Python writes it (a default as the parameters cell declares it). */
function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  return JSON.stringify(value);
}

function section(title: string, name: string, ...children: Child[]): HTMLElement {
  return h('section', { class: `nbprod-section nbprod-section-${name}` },
    h('h3', {}, title), ...children);
}

function stateMark(state: string): string {
  return { succeeded: '✓', failed: '✗', running: '●', lost: '?' }[state] ?? '·';
}

function kindName(kind: string): string {
  return { run: 'Run', sweep: 'Sweep', job_run: 'Job run' }[kind] ?? kind;
}

function roles(me: IPermissions): string {
  const names = ['run', 'approve', 'admin'].filter(r => (me as any)[r]);
  const promote = me.promote === '*' ? 'promote any stage'
    : me.promote.length ? `promote ${me.promote.join(', ')}` : '';
  return [...names, promote].filter(Boolean).join(', ') || 'viewer';
}
