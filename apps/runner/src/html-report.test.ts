import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from './html-report.js';

describe('renderHtmlReport', () => {
  it('is self-contained: Chart.js inlined, data embedded, no external script or stylesheet', () => {
    const html = renderHtmlReport({
      title: 'demo <test>',
      subtitle: ['backend wasm'],
      table: { head: ['model', 'test errors'], rows: [['teacher', '67']] },
      curves: [
        { label: 'teacher', role: 'teacher', points: [{ epoch: 0, loss: 1, valAcc: 0.9 }] },
        { label: 'distilled', role: 'distilled', points: [{ epoch: 0, loss: 2, valAcc: 0.8 }] },
      ],
      softTargets: {
        caption: 'a 7',
        label: 7,
        classNames: ['0', '1'],
        image: new Uint8Array(4),
        imageShape: [2, 2, 1],
        temperatures: [{ temperature: 1, probs: [0.1, 0.9] }],
      },
    });
    expect(html).toContain('demo &#60;test&#62;');
    expect(html).toMatch(/Chart\.js v4/);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain('"label":"distilled"');
    expect(html).toContain('id="digit"');
    // the inlined bundle may not end the script element early
    const scripts = html.split('<script>').length - 1;
    expect(html.split('</script>').length - 1).toBe(scripts);
  });
});
