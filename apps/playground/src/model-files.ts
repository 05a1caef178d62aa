/** The files of a tfjs Layers model picked in a file input: `model.json` plus its weight shards. */
export interface PickedFile {
  readonly name: string;
  readonly size: number;
}

export type ModelFilesCheck =
  | { readonly ok: true; readonly jsonIndex: number; readonly weightIndices: readonly number[] }
  | { readonly ok: false; readonly message: string };

/**
 * Checks a model.json's text before tfjs is asked to load it: it must be JSON with a `modelTopology`
 * (a Keras/tfjs Layers model) and a `weightsManifest` whose paths are all among the picked files.
 * Messages say which file is wrong and what a model looks like.
 */
export function checkModelFiles(
  files: readonly PickedFile[],
  jsonText: (index: number) => string,
): ModelFilesCheck {
  if (files.length === 0)
    return { ok: false, message: 'No file chosen: pick model.json and its .bin weight file(s).' };
  const jsonIndex = files.findIndex((f) => f.name.toLowerCase().endsWith('.json'));
  if (jsonIndex < 0) {
    const names = files.map((f) => f.name).join(', ');
    return {
      ok: false,
      message: `${names} is not a model: a tfjs model is a model.json file plus its .bin weight file(s); pick them together.`,
    };
  }
  const jsonFile = files[jsonIndex]!;
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonText(jsonIndex));
  } catch (e) {
    return {
      ok: false,
      message: `${jsonFile.name} is not a model: it is not valid JSON (${(e as Error).message}).`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || !('modelTopology' in parsed)) {
    return {
      ok: false,
      message: `${jsonFile.name} is not a model: it has no "modelTopology" (a tfjs Layers model.json, as written by model.save() or tensorflowjs_converter, has one).`,
    };
  }
  const manifest = (parsed as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) {
    return {
      ok: false,
      message: `${jsonFile.name} is not a model: it has no "weightsManifest" listing its weight files.`,
    };
  }
  const paths = manifest.flatMap((g: { paths?: unknown }) =>
    Array.isArray(g?.paths) ? (g.paths as string[]) : [],
  );
  const weightIndices: number[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    const base = p.split('/').pop() ?? p;
    const i = files.findIndex((f) => f.name === base);
    if (i < 0) missing.push(base);
    else weightIndices.push(i);
  }
  if (missing.length > 0) {
    return {
      ok: false,
      message: `${jsonFile.name} needs weight file(s) ${missing.join(', ')}: pick them together with the model.json.`,
    };
  }
  return { ok: true, jsonIndex, weightIndices };
}
