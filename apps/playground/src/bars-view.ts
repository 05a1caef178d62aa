import { el } from './dom.js';
import type { Bar } from './soft-target-bars.js';

/**
 * Draws probability bars into `container` (a 10-column grid). Each bar carries its probability in
 * `data-p` so tests and tools can read what is shown.
 */
export function renderBars(container: HTMLElement, bars: readonly Bar[]): void {
  // A list of "label: probability" items for screen readers (the bars are drawn with divs).
  container.setAttribute('role', 'list');
  if (document.getElementById(`${container.id}-title`)) {
    container.setAttribute('aria-labelledby', `${container.id}-title`);
  }
  if (container.children.length !== bars.length) {
    container.replaceChildren(
      ...bars.map(() => {
        const b = el('div', 'bar');
        b.setAttribute('role', 'listitem');
        b.append(el('div', 'val'), el('div', 'fill'), el('div', 'lbl'));
        return b;
      }),
    );
  }
  bars.forEach((bar, i) => {
    const b = container.children[i] as HTMLElement;
    b.classList.toggle('top', bar.isTop);
    b.dataset.p = bar.probability.toPrecision(6);
    b.dataset.class = String(bar.classIndex);
    b.title = `${bar.label}: ${bar.text}`;
    b.setAttribute('aria-label', `${bar.label}: ${bar.text}`);
    (b.children[0] as HTMLElement).textContent = bar.text;
    (b.children[1] as HTMLElement).style.height = `${bar.heightPct.toFixed(2)}%`;
    (b.children[2] as HTMLElement).textContent = bar.label;
  });
}

/** Empties a bar container. */
export function clearBars(container: HTMLElement): void {
  container.replaceChildren();
}
