/**
 * nbprod's REST API (the server extension under /nbprod/api/), called through
 * JupyterLab's ServerConnection: the Lab's token or login cookie, and the XSRF header on
 * POST, exactly as Lab's own requests.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IParameter {
  name: string;
  type: string;
  default: unknown;
  help: string | null;
  typed: boolean;
}

export interface ICheck {
  kind: 'lint' | 'test';
  notebook: string;
  notebook_version: string;
  passed: boolean;
  summary: string;
  created_at: string;
  current?: boolean;
}

export interface IJobStep {
  job: string;
  step: string;
  stages: Record<string, number | null>;
  stage_order: string[];
  latest_version: number | null;
  approvals: Record<string, number>;
}

export interface INotebookView {
  name: string;
  path: string;
  contract: IParameter[];
  problem: string | null;
  version: string | null;
  test: ICheck | null;
  jobs: IJobStep[];
}

export interface IFailure {
  kind: string;
  message: string;
  cell_index?: number | null;
  ename?: string | null;
  evalue?: string | null;
}

export interface IRunSummary {
  run_id: string;
  notebook: string;
  state: string;
  failure: IFailure | null;
  parameters: Record<string, unknown>;
  values: Record<string, unknown>;
  started_at: string;
  duration: number | null;
  sweep_id: string | null;
  job_run_id: string | null;
}

export interface IFinding {
  path: string;
  cell: number | null;
  line: number | null;
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface ILint {
  path: string;
  failed: boolean;
  findings: IFinding[];
}

export interface IFormCheck {
  ok: boolean;
  errors: Record<string, string>;
  problem: string | null;
  values: Record<string, unknown>;
}

export interface IPermissions {
  user: string;
  view: boolean;
  run: boolean;
  approve: boolean;
  admin: boolean;
  promote: string[] | '*';
}

export interface ITaskResult {
  state?: string;
  run_id?: string;
  job_run_id?: string;
  sweep_id?: string;
  counts?: Record<string, number>;
  failure?: IFailure | null;
}

export interface ITask {
  task_id: string;
  kind: 'run' | 'job_run' | 'sweep';
  target: string;
  state: string;
  run_id: string | null;
  job_run_id: string | null;
  step: string | null;
  steps_done: number;
  steps_total: number | null;
  cell: number | null;
  cells: number | null;
  label: string | null;
  elapsed: number;
  final: boolean;
  points_done?: number;
  points_total?: number;
  sweep_id?: string;
  result: ITaskResult | null;
  error: { type: string; message: string } | null;
}

export interface IGate {
  gate: string;
  passed: boolean;
  detail: string;
}

export interface IVerdict {
  job: string;
  version: number;
  stage: string;
  passed: boolean;
  gates: IGate[];
}

/** An error answer of the API: its one-line message (what failed, where, what to do). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'HTTPError'
  ) {
    super(message);
  }
}

export function canPromote(me: IPermissions | null, stage: string): boolean {
  return !!me && (me.promote === '*' || me.promote.includes(stage));
}

export class NbprodApi {
  readonly settings = ServerConnection.makeSettings();

  /** A URL under the server (`nbprod/runs/ID` is the run's page). */
  url(...parts: string[]): string {
    return URLExt.join(this.settings.baseUrl, ...parts);
  }

  async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = this.url('nbprod/api', path);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `the server cannot be reached (${String(error)})`);
    }
    const text = await response.text();
    let data: any = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data?.error as { message?: string; type?: string } | undefined;
      throw new ApiError(
        response.status,
        error?.message ?? `${response.status} ${response.statusText}`,
        error?.type
      );
    }
    return data as T;
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  notebookPath(name: string): string {
    return encodeURIComponent(name);
  }

  me(): Promise<IPermissions> {
    return this.request('me');
  }

  labNotebook(labPath: string): Promise<INotebookView> {
    return this.request(`lab/notebook?path=${encodeURIComponent(labPath)}`);
  }

  runs(notebook: string, limit = 8): Promise<{ runs: IRunSummary[] }> {
    const query = `notebook=${encodeURIComponent(notebook)}&limit=${limit}`;
    return this.request(`runs?${query}`);
  }

  run(runId: string): Promise<IRunSummary> {
    return this.request(`runs/${encodeURIComponent(runId)}`);
  }

  lint(notebook: string): Promise<ILint> {
    return this.request(`notebooks/${this.notebookPath(notebook)}/lint`);
  }

  check(
    notebook: string,
    form: 'run' | 'sweep',
    values: { parameters?: Record<string, string>; grid?: Record<string, string[]> }
  ): Promise<IFormCheck> {
    return this.post(`notebooks/${this.notebookPath(notebook)}/check`, {
      form,
      ...values
    });
  }

  /** Start a run with values as the check answered them (typed JSON). */
  startRun(notebook: string, parameters: Record<string, unknown>): Promise<ITask> {
    return this.post('runs', { notebook, parameters });
  }

  startSweep(
    notebook: string,
    parameters: Record<string, string>,
    grid: Record<string, string[]>
  ): Promise<ITask> {
    return this.post('sweeps', { notebook, parameters, grid });
  }

  startJobRun(job: string): Promise<ITask> {
    return this.post(`jobs/${encodeURIComponent(job)}/runs`, {});
  }

  task(taskId: string): Promise<ITask> {
    return this.request(`tasks/${encodeURIComponent(taskId)}`);
  }

  tasks(): Promise<ITask[]> {
    return this.request('tasks');
  }

  verdict(job: string, version: number, stage: string): Promise<IVerdict> {
    const query = `version=${version}&stage=${encodeURIComponent(stage)}`;
    return this.request(`jobs/${encodeURIComponent(job)}/verdict?${query}`);
  }

  promote(job: string, version: number, stage: string): Promise<IVerdict & { moved: boolean }> {
    return this.post(`jobs/${encodeURIComponent(job)}/promotions`, { version, stage });
  }

  approve(job: string, version: number, stage: string): Promise<{ approvals: unknown[] }> {
    return this.post(`jobs/${encodeURIComponent(job)}/approvals`, { version, stage });
  }
}
