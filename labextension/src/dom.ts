/**
 * A tiny element builder: h('div', {class: 'x'}, 'text', child). Text is always set as
 * text (never parsed as HTML), so values from run records cannot inject markup.
 */
export type Child = Node | string | number | null | undefined | false;

export interface IAttributes {
  [name: string]: string | number | boolean | EventListener | undefined;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: IAttributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) {
      continue;
    }
    if (typeof value === 'function') {
      element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(
      child instanceof Node ? child : document.createTextNode(String(child))
    );
  }
}

/** Replace everything inside `parent`. */
export function fill(parent: HTMLElement, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A number as the CLI shows it: 4 significant digits for floats. */
export function shown(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return value.toPrecision(4).replace(/\.?0+$/, '');
  }
  if (value === null) {
    return 'None';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `a=1  b=2  (+3)`: the first few items of a mapping. */
export function pairs(values: Record<string, unknown>, limit = 3): string {
  const items = Object.entries(values);
  const text = items
    .slice(0, limit)
    .map(([k, v]) => `${k}=${shown(v)}`)
    .join('  ');
  return items.length > limit ? `${text}  (+${items.length - limit})` : text;
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '-';
  }
  if (value < 60) {
    return `${value.toFixed(1)} s`;
  }
  const minutes = Math.floor(value / 60);
  return `${minutes} min ${String(Math.round(value % 60)).padStart(2, '0')} s`;
}
