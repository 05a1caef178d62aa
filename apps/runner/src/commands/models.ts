import { type Io, println } from '../io.js';
import { formatCount, renderTable } from '../results-table.js';
import { formatTeacherInfo, inspectTeacherFile } from '../teacher-inspect.js';
import * as toolkit from '../toolkit.js';

/** `distill models`: the zoo with parameter counts. */
export async function modelsCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  await toolkit.setupBackend('cpu');
  const zoo = toolkit.listZoo();
  if (opts.json) {
    println(io.stdout, JSON.stringify(zoo));
    return;
  }
  println(
    io.stdout,
    renderTable(
      ['model', 'params', 'input', 'description', 'source'],
      zoo.map((m) => [
        m.name,
        formatCount(m.parameterCount),
        `[${m.defaultInputShape.join(', ')}]`,
        m.description,
        m.source,
      ]),
    ),
  );
}

/** `distill models inspect FILE`: what a teacher file is (format, inputs, outputs, classes, head, operators, weights). */
export async function modelsInspectCommand(
  opts: Record<string, unknown>,
  io: Io,
  args: string[],
): Promise<void> {
  await toolkit.setupBackend('cpu');
  const info = await inspectTeacherFile(args[0]!);
  if (opts.json) println(io.stdout, JSON.stringify(info));
  else for (const line of formatTeacherInfo(info)) println(io.stdout, line);
}
