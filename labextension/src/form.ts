/**
 * A form generated from a notebook's parameter contract: a field per parameter with its type
 * and help, and a line under it for the message the server's contract check gives (the
 * CLI's words). Values are sent as typed text and read on the server as `-p` reads them.
 */
import { Widget } from '@lumino/widgets';

import { IParameter } from './api';
import { fill, h, shown } from './dom';

/** A default as one would type it after `-p NAME`. */
export function asText(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  return typeof value === 'string' ? value : shown(value);
}

export class ParametersForm extends Widget {
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly errors = new Map<string, HTMLElement>();
  private readonly problem = h('div', { class: 'nbprod-form-problem' });

  /**
   * `mode` 'run': each field holds its default; 'sweep': each field takes comma-separated
   * values to sweep (empty: the default).
   */
  constructor(
    readonly contract: IParameter[],
    readonly mode: 'run' | 'sweep'
  ) {
    super({ node: h('form', { class: 'nbprod-form' }) });
    this.node.addEventListener('submit', event => event.preventDefault());
    const rows = contract.map(parameter => this.row(parameter));
    fill(
      this.node,
      this.problem,
      mode === 'sweep'
        ? h('p', { class: 'nbprod-hint' },
          'Values to sweep, comma separated; the points are every combination.')
        : null,
      ...rows
    );
    if (!contract.length) {
      this.node.appendChild(h('p', {}, 'This notebook declares no parameters.'));
    }
  }

  private row(parameter: IParameter): HTMLElement {
    const bool = parameter.type === 'bool' && this.mode === 'run';
    const input = h('input', {
      type: bool ? 'checkbox' : 'text',
      name: parameter.name,
      class: 'nbprod-input',
      'aria-label': parameter.name,
      spellcheck: 'false',
      placeholder: this.mode === 'sweep' ? `${asText(parameter.default)}, …` : undefined
    });
    if (bool) {
      input.checked = parameter.default === true;
    } else if (this.mode === 'run') {
      input.value = asText(parameter.default);
    }
    input.dataset.default = bool ? String(input.checked) : input.value;
    this.inputs.set(parameter.name, input);
    const error = h('div', { class: 'nbprod-field-error', 'data-parameter': parameter.name });
    this.errors.set(parameter.name, error);
    return h(
      'label',
      { class: 'nbprod-field' },
      h('span', { class: 'nbprod-field-name' }, parameter.name),
      input,
      h('span', { class: 'nbprod-field-type' }, parameter.type),
      parameter.help ? h('span', { class: 'nbprod-field-help' }, parameter.help) : null,
      error
    );
  }

  /** Run mode: the fields changed from their defaults, as typed ("true"/"false" for bools). */
  changed(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [name, input] of this.inputs) {
      const value = input.type === 'checkbox' ? String(input.checked) : input.value;
      if (value !== input.dataset.default) {
        values[name] = value;
      }
    }
    return values;
  }

  /** Sweep mode: name -> the values listed in its field. */
  grid(): Record<string, string[]> {
    const grid: Record<string, string[]> = {};
    for (const [name, input] of this.inputs) {
      if (input.value.trim()) {
        grid[name] = input.value.split(',').map(v => v.trim());
      }
    }
    return grid;
  }

  /** Show each field's message under it (and clear the rest); `problem` above them all. */
  showErrors(errors: Record<string, string>, problem: string | null = null): void {
    for (const [name, line] of this.errors) {
      line.textContent = errors[name] ?? '';
      this.inputs.get(name)?.classList.toggle('nbprod-invalid', !!errors[name]);
    }
    this.problem.textContent = problem ?? '';
  }

  /** A line above the fields (what the user should know before starting). */
  note(text: string | null): void {
    if (text) {
      this.node.insertBefore(h('p', { class: 'nbprod-note' }, text), this.node.firstChild);
    }
  }

  get hasErrors(): boolean {
    return [...this.errors.values()].some(line => !!line.textContent);
  }
}
