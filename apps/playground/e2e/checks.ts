import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConsoleMessage, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The flags under which headless Chromium offers a real WebGPU adapter (SwiftShader, on the CPU). */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
];

/** The serious and critical axe-core violations on the page now, one line each (empty when none). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
    }
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
}

/** Console messages that carry a stack trace ("    at f (file:1:2)"), collected from `page` on. */
export function collectConsoleStacks(page: Page): string[] {
  const stacks: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if ((m.type() === 'error' || m.type() === 'warning') && /\n\s+at\s/.test(m.text())) {
      stacks.push(`${m.type()}: ${m.text().slice(0, 300)}`);
    }
  });
  return stacks;
}

/** What overflows at the current viewport: the page's sideways scroll and elements cut at the edge. */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) {
      // name the innermost elements that stick out
      const out = Array.from(document.body.querySelectorAll('*')).filter(
        (e) => e.getBoundingClientRect().right > doc.clientWidth + 0.5,
      );
      const leaves = out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 5);
      const name = (e: Element) =>
        `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ')[0]}` : ''} (right ${Math.round(e.getBoundingClientRect().right)})`;
      problems.push(
        `the page scrolls sideways: ${doc.scrollWidth} px of content in ${doc.clientWidth} px; sticking out: ${leaves.map(name).join(', ')}`,
      );
    }
    const width = doc.clientWidth;
    for (const sel of [
      '#bars-t .bar:last-child',
      '#bars-t1 .bar:last-child',
      '#log-scale',
      '#dk-temperature',
      '#run',
    ]) {
      const e = document.querySelector(sel);
      if (!e) continue;
      const r = e.getBoundingClientRect();
      if (r.right > width + 0.5 || r.left < -0.5)
        problems.push(`${sel} is cut off (${r.left}..${r.right} of ${width})`);
    }
    // Every choice of a select must fit its box when chosen (the issue saw "MNIST (10,000 embedded" and
    // "MLP 784-400-400-10, drop"); 16 px are left for the arrow.
    const ctx = document.createElement('canvas').getContext('2d')!;
    for (const s of Array.from(document.querySelectorAll('select'))) {
      const cs = getComputedStyle(s);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room =
        s.clientWidth - Number.parseFloat(cs.paddingLeft) - Number.parseFloat(cs.paddingRight) - 16;
      for (const o of Array.from(s.options)) {
        const w = ctx.measureText(o.text).width;
        if (w > room)
          problems.push(`#${s.id} would cut "${o.text}" (${Math.round(w)} px in ${Math.round(room)} px)`);
      }
    }
    // Bar values must be readable: at least 12 px.
    for (const v of Array.from(document.querySelectorAll('.bar .val')).slice(0, 1)) {
      const size = Number.parseFloat(getComputedStyle(v).fontSize);
      if (size < 12) problems.push(`bar values are ${size} px text`);
    }
    return problems;
  });
}
