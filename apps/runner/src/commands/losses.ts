import { type Io, println } from '../io.js';
import * as toolkit from '../toolkit.js';

/** `distill losses`: every registered loss, one line each: name, kind, paper, options, definition. */
export async function lossesCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const losses = toolkit.listLossInfo();
  if (opts.json) {
    println(io.stdout, JSON.stringify(losses));
    return;
  }
  const width = Math.max(...losses.map((l) => l.name.length));
  for (const l of losses) {
    const aliases = l.aliases.length ? ` (alias ${l.aliases.join(', ')})` : '';
    const options = l.options.length ? ` Options: ${l.options.join(', ')}.` : '';
    println(
      io.stdout,
      `${l.name.padEnd(width)}  ${l.kind}  ${l.paper}${aliases}.${options} ${l.description}`,
    );
  }
  for (const r of RECIPES) println(io.stdout, `${r.name.padEnd(width)}  recipe  ${r.text}`);
}

/** Trainer recipes that go with a loss rather than being one. */
const RECIPES = [
  {
    name: 'ctkd',
    text: 'Li et al., Curriculum Temperature for Knowledge Distillation, AAAI 2023. With --loss kd or dkd: --ctkd [--ctkd-per-example] (experiment files: ctkd: { perExample, tStart, tEnd, loops, lambdaMax }). The temperature is learned through a gradient-reversal layer, its weight rising as a cosine from 0 to 1.',
  },
  {
    name: 'mlkd-pairs',
    text: "Jin, Wang and Lin, Multi-Level Logit Distillation, CVPR 2023. With --loss mlkd: --strong-augment SPEC (experiment files: strongAugment) adds each batch's strongly augmented copy (its instance KD at every temperature, and its cross-entropy).",
  },
] as const;
