import { InvalidFileError, NotInstalledError, type Teacher } from '@distilljs/core';
import { io } from '@tensorflow/tfjs-core';
import {
  type GraphModelLike,
  type GraphNodeDef,
  type GraphTeacherOptions,
  graphTeacher,
} from './graph-teacher.js';

/** The command that installs tfjs-converter (graph models). */
export const TFJS_CONVERTER_INSTALL = 'npm install @tensorflow/tfjs-converter';

/** The part of @tensorflow/tfjs-converter a graph teacher uses. */
export interface TfjsConverterModule {
  loadGraphModel(handler: io.IOHandler): Promise<GraphModelLike>;
}

type ConverterModule = TfjsConverterModule;

/** @tensorflow/tfjs-converter, loaded on demand; a {@link NotInstalledError} with the install command when absent. */
export async function loadTfjsConverter(): Promise<ConverterModule> {
  try {
    const name = '@tensorflow/tfjs-converter';
    // a bundled app passes its own module (option converter): bundlers are not to follow this import
    const mod = (await import(/* @vite-ignore */ name)) as ConverterModule & { default?: ConverterModule };
    return typeof mod.loadGraphModel === 'function' ? mod : (mod.default as ConverterModule);
  } catch (cause) {
    throw new NotInstalledError(
      'A graph-model teacher needs @tensorflow/tfjs-converter, which is not installed.',
      TFJS_CONVERTER_INSTALL,
      { cause },
    );
  }
}

/** What a model.json holds: `graph` (tfjs_graph_model, a GraphDef), `layers` (a Keras topology), or neither. */
export function modelJsonKind(json: unknown): 'graph' | 'layers' | undefined {
  const j = json as {
    format?: unknown;
    modelTopology?: { node?: unknown; class_name?: unknown; model_config?: unknown };
  };
  if (!j || typeof j !== 'object') return undefined;
  if (j.format === 'graph-model' || Array.isArray(j.modelTopology?.node)) return 'graph';
  if (j.format === 'layers-model' || j.modelTopology?.class_name || j.modelTopology?.model_config)
    return 'layers';
  return undefined;
}

/** Options of {@link loadGraphTeacher}: those of a graph teacher, less the nodes (read from model.json). */
export interface LoadGraphTeacherOptions extends Omit<GraphTeacherOptions, 'nodes'> {
  /**
   * The tfjs-converter module to load with. Default: imported on demand. A bundled browser app passes its
   * own (`await import('@tensorflow/tfjs-converter')`), which its bundler can see and ship.
   */
  readonly converter?: TfjsConverterModule;
}

/**
 * Loads a tfjs graph model through an IOHandler (tfjs-converter's loadGraphModel) as a {@link Teacher}
 * (see `graphTeacher`); `source` names it in messages. Refuses a Layers model.json (load that with
 * `loadTeacher`), and reports an operator tfjs cannot run with the node that uses it.
 */
export async function loadGraphTeacherWith(
  handler: io.IOHandler,
  source: string,
  options: LoadGraphTeacherOptions,
): Promise<Teacher> {
  const { converter: given, ...teacherOptions } = options;
  const converter = given ?? (await loadTfjsConverter());
  let nodes: GraphNodeDef[] | undefined;
  const load = handler.load?.bind(handler);
  if (!load) throw new InvalidFileError(`${source}: this IOHandler cannot load`, { where: source });
  const capture: io.IOHandler = {
    async load() {
      const artifacts = await load();
      const kind = modelJsonKind({ format: artifacts.format, modelTopology: artifacts.modelTopology });
      if (kind !== 'graph') {
        throw new InvalidFileError(
          `${source}: this model.json is ${kind === 'layers' ? 'a tfjs Layers model' : 'not a tfjs graph model'} (format ${JSON.stringify(artifacts.format ?? null)}); a graph model has format 'graph-model' and a GraphDef 'modelTopology.node' list${kind === 'layers' ? ' (pass a Layers model.json to --teacher as it is, or load it with loadTeacher)' : ''}`,
          { where: source },
        );
      }
      nodes = (artifacts.modelTopology as { node: GraphNodeDef[] }).node;
      return artifacts;
    },
  };
  let model: GraphModelLike;
  try {
    model = await converter.loadGraphModel(capture);
  } catch (err) {
    if (err instanceof InvalidFileError) throw err;
    throw new InvalidFileError(
      `${source}: TensorFlow.js cannot load the graph model: ${String((err as Error).message ?? err).split('\n')[0]}`,
      { where: source, cause: err },
    );
  }
  try {
    return await graphTeacher(model, source, { ...teacherOptions, ...(nodes ? { nodes } : {}) });
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * Loads a tfjs graph model (tensorflowjs_converter's `tfjs_graph_model` output) as a {@link Teacher}:
 * `source` is a URL of its model.json, or an IOHandler (in a browser, `tf.io.browserFiles([json, ...bins])`
 * from a file picker). In Node, the `/node` entry's `loadGraphTeacher` also takes a path.
 */
export function loadGraphTeacher(
  source: string | io.IOHandler,
  options: LoadGraphTeacherOptions,
): Promise<Teacher> {
  if (typeof source !== 'string') return loadGraphTeacherWith(source, 'graph model', options);
  const [handler] = io.getLoadHandlers(source);
  if (!handler)
    throw new InvalidFileError(
      `${source}: no tfjs loader for this URL; give an http(s) URL of model.json or an IOHandler`,
      { where: source },
    );
  return loadGraphTeacherWith(handler, source, options);
}
