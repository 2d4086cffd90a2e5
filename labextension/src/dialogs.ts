/**
 * The Run-with-parameters, Sweep, Promote and Approve dialogs. Run and Sweep check the form
 * through the server (field by field, the CLI's messages) and start nothing until it fits:
 * the dialog stays open with the messages under their fields.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  ApiError, IFormCheck, IJobStep, INotebookView, IPermissions, IVerdict, NbprodApi, canPromote
} from './api';
import { h } from './dom';
import { ParametersForm } from './form';
import { TaskTracker } from './tasks';

/** A dialog whose accept button first awaits `check()`: false keeps it open. */
class CheckedDialog<T> extends Dialog<T> {
  private checking = false;

  constructor(
    options: Partial<Dialog.IOptions<T>>,
    private readonly check: () => Promise<boolean>
  ) {
    super(options);
  }

  resolve(index?: number): void {
    if (index === 0) {
      super.resolve(0);
      return;
    }
    if (this.checking) {
      return;
    }
    this.checking = true;
    this.node.classList.add('nbprod-checking');
    void this.check()
      .then(ok => {
        if (ok) {
          super.resolve(index);
        }
      })
      .finally(() => {
        this.checking = false;
        this.node.classList.remove('nbprod-checking');
      });
  }
}

function message(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/** Check the form live as fields change (so a typo is marked before Run is pressed). */
function checkWhileTyping(form: ParametersForm, check: () => Promise<unknown>): void {
  let timer = 0;
  form.node.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void check(), 400);
  });
}

/**
 * A form dialog: `check()` marks the fields (also while typing); the accept button starts
 * the work only when the check passes, and the dialog stays open with the messages if not.
 */
async function formDialog(
  title: string,
  form: ParametersForm,
  label: string,
  check: () => Promise<IFormCheck>,
  start: (checked: IFormCheck) => Promise<void>
): Promise<boolean> {
  const marked = async () => {
    const result = await check();
    form.showErrors(result.errors, result.problem);
    return result;
  };
  checkWhileTyping(form, marked);
  const dialog = new CheckedDialog<void>(
    {
      title,
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label })],
      focusNodeSelector: 'input'
    },
    async () => {
      try {
        const result = await marked();
        if (!result.ok) {
          return false;
        }
        await start(result);
        return true;
      } catch (error) {
        form.showErrors({}, message(error));
        return false;
      }
    }
  );
  dialog.addClass('nbprod-dialog');
  return (await dialog.launch()).button.accept;
}

export function runDialog(
  api: NbprodApi,
  view: INotebookView,
  tracker: TaskTracker,
  note: string | null = null
): Promise<boolean> {
  const form = new ParametersForm(view.contract, 'run');
  form.addClass('nbprod-run-form');
  form.note(note);
  return formDialog(
    `Run ${view.path} with parameters`, form, 'Run',
    () => api.check(view.path, 'run', { parameters: form.changed() }),
    async checked => {
      const task = await api.startRun(view.path, checked.values);
      tracker.follow({ task, notebook: view.path, title: view.path, notify: true });
    });
}

export function sweepDialog(
  api: NbprodApi,
  view: INotebookView,
  tracker: TaskTracker,
  note: string | null = null
): Promise<boolean> {
  const form = new ParametersForm(view.contract, 'sweep');
  form.addClass('nbprod-sweep-form');
  form.note(note);
  return formDialog(
    `Sweep ${view.path}`, form, 'Sweep',
    async () => {
      const grid = form.grid();
      if (!Object.keys(grid).length) {
        return { ok: false, errors: {}, values: {},
          problem: 'give values to sweep for at least one parameter' };
      }
      return api.check(view.path, 'sweep', { grid });
    },
    async () => {
      const task = await api.startSweep(view.path, {}, form.grid());
      tracker.follow({ task, notebook: view.path, title: view.path,
        notify: true });
    });
}

/** A verdict's gates, one per line: ✓ or ✗, the gate, why. */
export function verdictNode(verdict: IVerdict): HTMLElement {
  return h(
    'div',
    { class: 'nbprod-verdict' },
    h(
      'p',
      { class: verdict.passed ? 'nbprod-ok' : 'nbprod-bad' },
      `${verdict.job} version ${verdict.version} → ${verdict.stage}: `,
      verdict.passed ? 'every gate passes' : 'refused, a gate fails'
    ),
    h(
      'ul',
      {},
      ...verdict.gates.map(gate =>
        h(
          'li',
          { class: gate.passed ? 'nbprod-ok' : 'nbprod-bad' },
          gate.passed ? '✓ ' : '✗ ',
          h('b', {}, gate.gate),
          `: ${gate.detail}`
        )
      ),
      verdict.gates.length ? null : h('li', {}, '(no gates)')
    )
  );
}

/**
 * Promote (or approve) the newest version of `step.job` into `stage`: the gate verdict
 * first, then the button, only if the role allows it. Returns whether something changed.
 */
export async function promoteDialog(
  api: NbprodApi,
  step: IJobStep,
  stage: string,
  me: IPermissions | null,
  action: 'promote' | 'approve'
): Promise<boolean> {
  const version = step.latest_version;
  if (version === null) {
    return false;
  }
  let verdict: IVerdict;
  try {
    verdict = await api.verdict(step.job, version, stage);
  } catch (error) {
    Notification.error(message(error), { autoClose: 8000 });
    return false;
  }
  const allowed = action === 'promote' ? canPromote(me, stage) : !!me?.approve;
  const body = h('div', {}, verdictNode(verdict));
  if (!allowed) {
    body.appendChild(h('p', { class: 'nbprod-bad' },
      `${me?.user ?? 'you'} may not ${action} ${stage} here ([tool.nbprod.roles])`));
  }
  const label = action === 'promote' ? `Promote to ${stage}` : `Approve for ${stage}`;
  const go = action === 'promote' ? allowed && verdict.passed : allowed;
  const result = await showDialog({
    title: `${action === 'promote' ? 'Promote' : 'Approve'} ${step.job} version ${version}`,
    body: new Widget({ node: body }),
    buttons: go
      ? [Dialog.cancelButton(), Dialog.warnButton({ label })]
      : [Dialog.cancelButton({ label: 'Close' })]
  });
  if (!go || !result.button.accept) {
    return false;
  }
  try {
    if (action === 'promote') {
      const outcome = await api.promote(step.job, version, stage);
      Notification.success(
        outcome.moved ? `${step.job}: ${stage} now points at version ${version}`
          : `${step.job}: ${stage} already points at version ${version}`,
        { autoClose: 6000 });
    } else {
      const outcome = await api.approve(step.job, version, stage);
      Notification.success(
        `${step.job} version ${version} approved for ${stage} (${outcome.approvals.length} approval(s))`,
        { autoClose: 6000 });
    }
    return true;
  } catch (error) {
    Notification.error(message(error), { autoClose: false });
    return false;
  }
}
