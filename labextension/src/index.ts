/**
 * nbprod in JupyterLab: a sidebar for the notebook in focus, "Run with parameters…" and
 * "Sweep…" (toolbar button and command palette), and a notification when work started
 * here ends. Everything goes through nbprod's REST API (the server extension), so Lab uses
 * the same parameter contract, checks and roles as the CLI.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification, ToolbarButton } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { ITaskResult, NbprodApi } from './api';
import { runDialog, sweepDialog } from './dialogs';
import { pairs, seconds } from './dom';
import { NbprodSidebar } from './sidebar';
import { IStarted, TaskTracker } from './tasks';

const ICON = new LabIcon({
  name: 'nbprod:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" '
    + 'fill="#616161"><path d="M4 4h10l6 6v10a0 0 0 0 1 0 0H4z" opacity=".25"/>'
    + '<path d="M8 7l9 5-9 5z"/></g></svg>'
});

const COMMANDS = {
  run: 'nbprod:run-with-parameters',
  sweep: 'nbprod:sweep',
  refresh: 'nbprod:refresh',
  show: 'nbprod:show-sidebar'
};

/** Say how work started from Lab ended: values, or the failing cell, with a link. */
async function announce(api: NbprodApi, started: IStarted,
  tracker: INotebookTracker): Promise<void> {
  if (!started.notify) {
    return;
  }
  const { task, title } = started;
  const result: ITaskResult = task.result ?? {};
  const runId: string | null = task.run_id ?? result.run_id ?? null;
  const open = runId ? [{
    label: 'Open run', caption: `open run ${runId}'s page`,
    callback: () => {
      window.open(api.url('nbprod/runs', runId), '_blank');
    }
  }] : [];
  if (task.state === 'succeeded') {
    let values = '';
    if (task.kind === 'run' && runId) {
      values = pairs((await api.run(runId).catch(() => null))?.values ?? {}, 4);
    } else if (task.kind === 'sweep') {
      values = pairs(result.counts ?? {}, 4);
    }
    Notification.success(
      `${kindTitle(task.kind)} of ${title} succeeded in ${seconds(task.elapsed)}`
      + (values ? `: ${values}` : ''), { autoClose: 10000, actions: open });
    return;
  }
  const failure = result.failure;
  let why = task.error?.message ?? failure?.message ?? task.state;
  const actions = [...open];
  if (failure && typeof failure.cell_index === 'number') {
    why = `cell ${failure.cell_index}: ${failure.ename ?? ''} ${failure.evalue ?? ''}`.trim();
    const cell = failure.cell_index;
    actions.push({
      label: 'Go to cell', caption: `select cell ${cell}`,
      callback: () => focusCell(tracker.currentWidget, cell)
    });
  } else if (task.kind === 'sweep' && result.counts) {
    why = pairs(result.counts, 4);
  }
  Notification.error(`${kindTitle(task.kind)} of ${title} ${task.state}: ${why}`,
    { autoClose: false, actions });
}

function kindTitle(kind: string): string {
  return { run: 'Run', sweep: 'Sweep', job_run: 'Job run' }[kind] ?? kind;
}

/** Runs execute the saved file: say so when the open notebook has unsaved changes. */
function runNote(panel: NotebookPanel | null): string | null {
  return panel?.context.model.dirty
    ? 'This notebook has unsaved changes: the run uses the saved file (save first to '
      + 'include them).'
    : null;
}

function focusCell(panel: NotebookPanel | null, index: number): void {
  if (!panel) {
    return;
  }
  const notebook = panel.content;
  if (index < 0 || index >= notebook.widgets.length) {
    return;
  }
  notebook.mode = 'command';
  notebook.activeCellIndex = index;
  void notebook.scrollToCell(notebook.widgets[index], 'center');
  notebook.node.focus();
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbprod-lab:plugin',
  description: 'nbprod: the notebook\'s contract, runs, lint, tests and jobs; run, sweep, '
    + 'promote',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker,
    palette: ICommandPalette | null) => {
    const api = new NbprodApi();
    const tasks = new TaskTracker(api);
    const sidebar = new NbprodSidebar(api, tasks, {
      focusCell: index => {
        const panel = notebooks.currentWidget;
        if (panel) {
          app.shell.activateById(panel.id);
          focusCell(panel, index);
        }
      },
      openRun: runId => window.open(api.url('nbprod/runs', runId), '_blank'),
      runNote: () => runNote(notebooks.currentWidget)
    });
    sidebar.title.icon = ICON;
    app.shell.add(sidebar, 'right', { rank: 600 });
    tasks.ended.connect((_, started) => void announce(api, started, notebooks));

    const follow = (panel: NotebookPanel | null) => {
      void sidebar.showNotebook(panel ? panel.context.path : null);
    };
    notebooks.currentChanged.connect((_, panel) => follow(panel));
    notebooks.widgetAdded.connect((_, panel) => {
      panel.context.saveState.connect((_, state) => {
        if (state === 'completed' && notebooks.currentWidget === panel) {
          void sidebar.refresh();
        }
      });
    });
    follow(notebooks.currentWidget);

    const ready = () => !!sidebar.view && !!notebooks.currentWidget;
    app.commands.addCommand(COMMANDS.run, {
      label: 'Run with parameters…',
      caption: 'Run the saved notebook with parameters checked against its contract',
      icon: ICON,
      isEnabled: ready,
      execute: async () => {
        if (sidebar.view) {
          app.shell.activateById(sidebar.id);
          await runDialog(api, sidebar.view, tasks, runNote(notebooks.currentWidget));
        }
      }
    });
    app.commands.addCommand(COMMANDS.sweep, {
      label: 'Sweep…',
      caption: 'Run the saved notebook over a grid of parameter values',
      isEnabled: ready,
      execute: async () => {
        if (sidebar.view) {
          app.shell.activateById(sidebar.id);
          await sweepDialog(api, sidebar.view, tasks, runNote(notebooks.currentWidget));
        }
      }
    });
    app.commands.addCommand(COMMANDS.refresh, {
      label: 'Refresh the nbprod sidebar',
      execute: () => sidebar.refresh()
    });
    app.commands.addCommand(COMMANDS.show, {
      label: 'Show the nbprod sidebar',
      execute: () => app.shell.activateById(sidebar.id)
    });
    if (palette) {
      for (const command of Object.values(COMMANDS)) {
        palette.addItem({ command, category: 'nbprod' });
      }
    }
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: ICON,
          label: 'Run with parameters',
          tooltip: 'nbprod: run the saved notebook with parameters',
          onClick: () => void app.commands.execute(COMMANDS.run)
        });
        button.addClass('nbprod-toolbar-run');
        panel.toolbar.insertAfter('cellType', 'nbprod-run', button);
        return button;
      }
    });
  }
};

export default plugin;
