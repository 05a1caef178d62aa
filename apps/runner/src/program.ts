import { Command, Option } from 'commander';
import { LOSS_NAMES } from './experiment-schema.js';
import type { Io } from './io.js';
import {
  augmentSpec,
  backendRequest,
  datasetArg,
  integer,
  lossName,
  nonNegativeInt,
  nonNegativeNumber,
  normalizeSpec,
  numberList,
  optimizerName,
  positiveInt,
  positiveNumber,
  shardSpec,
  unitNumber,
} from './option-parsers.js';
import { RUNNER_VERSION } from './version.js';

/** Options every training command shares. */
function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu')
        .default('auto')
        .argParser(backendRequest),
    )
    .option('--out <dir>', 'run directory to create (default: runs/<command>-<time>); never overwritten')
    .option('--json', 'print the result as one JSON object on stdout (progress stays on stderr)')
    .option('--quiet', 'no progress output');
}

function addDataOptions(cmd: Command, defaultDataset = 'mnist-embedded'): Command {
  cmd
    .addOption(
      new Option(
        '--dataset <name|path>',
        'mnist-embedded | mnist | fashion-mnist | cifar10 | synthetic, or your own data: folder:DIR | csv:FILE | npy:FEATURES,LABELS (or a plain directory or .csv/.tsv path)',
      )
        .default(defaultDataset)
        .argParser(datasetArg),
    )
    .option('--data-dir <dir>', 'directory holding the dataset files (IDX or CIFAR binary)')
    .option('--train-size <n>', 'use only the first N training examples', positiveInt)
    .option('--test-size <n>', 'use only the first N test examples', positiveInt)
    .option(
      '--validation-size <n>',
      'training examples held out as the validation split (seeded, stratified; default 10%)',
      positiveInt,
    )
    .option('--validation-seed <n>', 'seed of the validation split', integer, 0);
  return addOwnDataOptions(cmd);
}

/** Options of your own data (image folders, tables, NPY). */
function addOwnDataOptions(cmd: Command): Command {
  return cmd
    .option(
      '--label-column <name>',
      'table: the label column (header name; without a header its 1-based number, or last)',
    )
    .option('--no-header', 'table: the first line is data, not column names')
    .option('--skip-lines <n>', "table: lines to skip first (sklearn's files: 1)", nonNegativeInt)
    .option(
      '--no-standardize',
      'table/NPY: keep features as they are (default: standardise with training statistics)',
    )
    .option(
      '--image-size <px>',
      'image folder: side of the square images after resizing (default 64)',
      positiveInt,
    )
    .addOption(new Option('--channels <n>', 'image folder: 1 (grey) or 3 (RGB)').choices(['1', '3']))
    .addOption(
      new Option('--resize <mode>', 'image folder: how images reach the size').choices([
        'stretch',
        'centre-crop',
        'pad',
      ]),
    )
    .option(
      '--test-fraction <f>',
      'own data: share held out (stratified, seeded) as the test split, scored once at the end (default 0.2); the validation split is then carved from the rest',
      unitNumber,
    )
    .option(
      '--skip-bad-files',
      'image folder: skip unreadable images and report how many (default: fail, listing them)',
    )
    .option('--unlabelled <dir>', 'a folder of unlabelled images added to the transfer set (soft term only)');
}

function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'training epochs', positiveInt)
    .option('--batch-size <n>', 'examples per step', positiveInt)
    .option('--optimizer <name>', 'adam | adamw | sgd | momentum | nesterov', optimizerName)
    .option('--lr <rate>', 'learning rate', positiveNumber)
    .option('--clip-grad-norm <n>', "clip each step's gradients to this global L2 norm", positiveNumber)
    .addOption(
      new Option('--schedule <name>', 'learning-rate schedule').choices(['constant', 'step', 'cosine']),
    )
    .option(
      '--augment <spec>',
      'random augmentation: shift:PX, crop:PAD, flip (comma-separated)',
      augmentSpec,
    )
    .option('--seed <n>', 'seed for initialisation, shuffling, dropout and augmentation', integer, 1)
    .option('--resume <dir>', 'continue an interrupted run from its last checkpoint')
    .option(
      '--override',
      "with --resume: let flags that differ from the run's recorded settings replace them (recorded in run.json)",
    );
}

/** How to feed a teacher file (ONNX, graph model). */
function addTeacherInputOptions(cmd: Command): Command {
  return cmd
    .option(
      '--teacher-normalize <list>',
      'per-channel normalisation the teacher expects on [0, 1] pixels: MEAN,STD or M1,..,Mc,S1,..,Sc',
      normalizeSpec,
    )
    .option('--teacher-output <name>', 'the output holding the logits, when the teacher model has several');
}

/** Loads a command module only when it runs, so `--help` and bad usage answer at once. */
type Action = (opts: Record<string, unknown>, io: Io, args: string[]) => Promise<void>;
function lazy(load: () => Promise<Action>, io: Io) {
  return async (...params: unknown[]) => {
    const cmd = params[params.length - 1] as Command;
    const args = cmd.args;
    const action = await load();
    const opts: Record<string, unknown> = { ...cmd.optsWithGlobals() };
    // which options the user gave (commands may fill defaults from a run directory instead)
    opts.$given = Object.keys(opts).filter((k) => {
      const source = cmd.getOptionValueSourceWithGlobals(k);
      return source !== 'default' && source !== undefined;
    });
    await action(opts, io, args);
  };
}

/** The dataset and budget options shared by the `reproduce` commands. */
function addReproduceOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--dataset <name>', 'mnist-embedded | mnist | fashion-mnist')
        .choices(['mnist-embedded', 'mnist', 'fashion-mnist'])
        .default('mnist-embedded'),
    )
    .option('--data-dir <dir>', 'directory holding the dataset files')
    .option('--quick', 'small subsets and few epochs (CI)')
    .option(
      '--teacher-epochs <n>',
      'teacher epochs (default: the paper-scale budget, or the --quick one)',
      positiveInt,
    )
    .option(
      '--student-epochs <n>',
      'epochs of each student (default: the paper-scale budget, or the --quick one)',
      positiveInt,
    )
    .option('--train-size <n>', 'use only the first N training examples', positiveInt)
    .option('--test-size <n>', 'use only the first N test examples', positiveInt)
    .option(
      '--validation-size <n>',
      'training examples held out as the validation split (seeded, stratified; default 10%)',
      positiveInt,
    )
    .option('--no-test', 'do not read the test split (runs that choose settings on validation)');
}

/**
 * The `distill` command line as a commander program. Parsing errors throw (exitOverride) so that
 * {@link main} can turn them into exit code 2 with one line.
 */
export function createProgram(io: Io): Command {
  const program = new Command('distill')
    .description(
      'Knowledge distillation on TensorFlow.js: train teachers, distil students, reproduce the paper.',
    )
    .version(RUNNER_VERSION, '-V, --version')
    .option('--verbose', 'print stacks with errors')
    .showSuggestionAfterError()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`distill: ${s.replace(/^error: /, '')}`),
    });

  const apply = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`distill: ${s.replace(/^error: /, '')}`),
    });
    cmd.showSuggestionAfterError();
    return cmd;
  };

  apply(
    addCommonOptions(
      program
        .command('demo')
        .description(
          'the main job: on the embedded MNIST digits, train hinton-teacher, a baseline hinton-student and a hinton-student distilled at T = 20, and compare them',
        )
        .option(
          '--quick',
          'a smaller, faster run (2,000 training digits, 12 epochs each; a few minutes on 2 cores)',
        )
        .option('--seed <n>', 'seed', integer, 1)
        .option('--resume <dir>', 'continue an interrupted demo run'),
    ),
  ).action(lazy(async () => (await import('./commands/demo.js')).demoCommand, io));

  apply(
    addCommonOptions(
      addTrainingOptions(
        addDataOptions(
          program.command('train').description('train one model on labels alone (a teacher or a baseline)'),
        ),
      ).option('--model <name>', 'zoo model name (see `distill models`)', 'hinton-teacher'),
    ),
  ).action(lazy(async () => (await import('./commands/train.js')).trainCommand, io));

  apply(
    addCommonOptions(
      addTrainingOptions(
        addTeacherInputOptions(
          addDataOptions(program.command('distill').description('distil a student from a teacher')),
        ),
      )
        .requiredOption(
          '--teacher <ref>',
          'a zoo name (trained first), a run directory of ours, a tfjs Layers or graph model.json (path or URL), an .onnx file, or a teacher-logits directory',
        )
        .option('--student <name>', 'zoo model name of the student', 'hinton-student')
        .option('--temperature <T>', 'softmax temperature of the soft targets', positiveNumber, 20)
        .option(
          '--alpha <a>',
          'weight of the soft (distillation) term; 1 - alpha goes to the hard labels',
          unitNumber,
          0.9,
        )
        .option(
          '--loss <name>',
          `${LOSS_NAMES.filter((n) => n !== 'ce').join(' | ')} (see \`distill losses\`)`,
          lossName,
          'kd',
        )
        .option('--dkd-alpha <w>', 'dkd: weight of the target-class term TCKD (default 1)', nonNegativeNumber)
        .option(
          '--dkd-beta <w>',
          'dkd: weight of the non-target-class term NCKD (default 8)',
          nonNegativeNumber,
        )
        .option('--dist-beta <w>', 'dist: weight of the inter-class relation (default 1)', nonNegativeNumber)
        .option('--dist-gamma <w>', 'dist: weight of the intra-class relation (default 1)', nonNegativeNumber)
        .option('--nkd-gamma <w>', 'nkd: weight of the non-target term (default 1.5)', nonNegativeNumber)
        .option(
          '--mlkd-temperatures <list>',
          'mlkd: comma-separated temperatures (default 2,3,4,5,6)',
          numberList,
        )
        .option('--no-mlkd-mask', "mlkd: turn off the paper's confidence masking")
        .option(
          '--logit-standardization',
          'kd, dkd, mlkd: z-score the logits per example before the temperature',
        )
        .option('--ctkd', 'kd, dkd: learn the temperature (CTKD: gradient reversal, cosine curriculum)')
        .option(
          '--ctkd-per-example',
          'with --ctkd: one temperature per example (a small MLP) instead of one global',
        )
        .option(
          '--strong-augment <spec>',
          "mlkd: weak/strong pairing, the strong view's augmentation (shift:PX, crop:PAD, flip)",
          augmentSpec,
        )
        .option('--exclude-class <ids>', 'leave these class ids out of the transfer set (comma-separated)')
        .option('--teacher-epochs <n>', 'epochs to train a zoo-name teacher first', positiveInt),
    ),
  ).action(lazy(async () => (await import('./commands/distill.js')).distillCommand, io));

  apply(
    program
      .command('losses')
      .description('every distillation loss, one line each with its paper and options')
      .option('--json', 'print as JSON'),
  ).action(lazy(async () => (await import('./commands/losses.js')).lossesCommand, io));

  apply(
    addTeacherInputOptions(
      addDataOptions(
        program
          .command('logits')
          .description(
            "write a teacher's logits on a dataset split as files (docs/teacher-logits.md), to distil from later with --teacher DIR",
          ),
      ),
    )
      .requiredOption(
        '--teacher <ref>',
        'a run directory of ours, a tfjs Layers or graph model.json, or an .onnx file',
      )
      .requiredOption('--out <dir>', 'the logits directory (shards of one teacher and split add up in it)')
      .addOption(new Option('--split <name>', 'which split').choices(['train', 'test']).default('train'))
      .option(
        '--shard <i/n>',
        'write only shard i of n (examples floor(i*N/n) .. floor((i+1)*N/n) - 1)',
        shardSpec,
      )
      .option('--top-k <k>', 'keep only the k largest logits per example', positiveInt)
      .option(
        '--temperature <list>',
        'with --top-k: the distillation temperatures to keep the k probabilities exact at (comma-separated; default 1)',
        numberList,
      )
      .addOption(
        new Option('--dtype <type>', 'storage type of the logits')
          .choices(['float32', 'float16'])
          .default('float32'),
      )
      .option('--batch-size <n>', 'examples per teacher call', positiveInt, 256)
      .addOption(new Option('--backend <name>', 'backend').default('auto').argParser(backendRequest))
      .option('--json', 'print the result as JSON')
      .option('--quiet', 'no notes'),
  ).action(lazy(async () => (await import('./commands/logits.js')).logitsCommand, io));

  apply(
    addDataOptions(
      program.command('eval').description('evaluate trained models on the test (or validation) split'),
    )
      .requiredOption('--model <ref>', 'a run directory of ours, or a model.json path or URL')
      .addOption(
        new Option('--split <name>', 'which split to score').choices(['test', 'validation']).default('test'),
      )
      .addOption(new Option('--backend <name>', 'backend').default('auto').argParser(backendRequest))
      .option('--json', 'print the result as JSON')
      .option('--predictions <file>', "write each test example's predicted class to a CSV file"),
  ).action(lazy(async () => (await import('./commands/eval.js')).evalCommand, io));

  apply(
    addDataOptions(
      program
        .command('export')
        .description('the student alone as a tfjs Layers model, quantised, with its preprocessing')
        .argument(
          '<run-or-model>',
          'a run directory (its distilled student by default) or a model directory',
        ),
    )
      .requiredOption('--out <dir>', 'directory to write (model.json, weights.bin, preprocessing.json)')
      .addOption(
        new Option('--quantize <type>', 'weight storage')
          .choices(['float16', 'uint8', 'none'])
          .default('uint8'),
      )
      .option(
        '--max-accuracy-drop <points>',
        'refuse if test accuracy drops by more (percentage points)',
        nonNegativeNumber,
        1,
      )
      .option('--model <stage>', 'which model of a run directory (stage id, name or role)')
      .addOption(new Option('--backend <name>', 'backend').default('auto').argParser(backendRequest))
      .option('--json', 'print the result as JSON'),
  ).action(lazy(async () => (await import('./commands/export.js')).exportCommand, io));

  apply(
    addDataOptions(
      program
        .command('predict')
        .description(
          'classes of image files, or of table rows, with a saved or exported model, preprocessed as in training',
        )
        .argument('<model>', 'an exported model directory, a model directory or a run directory')
        .argument(
          '<inputs...>',
          'image files (PNG, JPEG, WebP, GIF, ...), or for a model trained on a table: CSV/TSV files of rows (by header name or in column order) or .npy arrays',
        ),
    )
      .option('--top <k>', 'how many classes to show per input', positiveInt, 3)
      .option('--model <stage>', 'which model of a run directory (stage id, name or role)')
      .addOption(new Option('--backend <name>', 'backend').default('auto').argParser(backendRequest))
      .option('--json', 'print every class probability as JSON'),
  ).action(lazy(async () => (await import('./commands/predict.js')).predictCommand, io));

  apply(
    addCommonOptions(
      program
        .command('run')
        .description(
          'run an experiment file (YAML or JSON): teacher, students, sweeps over temperature/alpha and seeds',
        )
        .argument('<file>', 'experiment file')
        .option('--resume <dir>', 'continue an interrupted experiment run')
        .option('--seeds <list>', 'override the seeds (comma-separated)')
        .option(
          '--list-jobs',
          "list the experiment's units of work (teacher × seed, student × seed × setting)",
        )
        .option(
          '--job <id>',
          'run exactly one unit, into <out>/jobs/<id> (--out: the output root, default runs/<file>)',
        )
        .option('--job-index <i>', 'run the i-th unit of --list-jobs (for array jobs)', nonNegativeInt)
        .option(
          '--wait <seconds>',
          'with --job: how long to wait for the teacher unit it needs',
          nonNegativeInt,
        ),
    ),
  ).action(lazy(async () => (await import('./commands/run.js')).runCommand, io));

  apply(
    program
      .command('merge')
      .description("build an experiment's table and report (mean ± std) from its units' run records")
      .argument('<root>', 'output root of `distill run FILE --job ...` (its --out)')
      .option('--wait <seconds>', 'wait up to this long for unfinished units before refusing', nonNegativeInt)
      .option('--json', 'print the result as one JSON object on stdout')
      .option('--quiet', 'no progress output'),
  ).action(lazy(async () => (await import('./commands/merge.js')).mergeCommand, io));

  const emit = apply(program.command('emit').description('write cluster job files for an experiment'));
  apply(
    emit
      .command('slurm')
      .description('sbatch scripts: a teacher array, a student array (afterok), a merge job, and submit.sh')
      .argument('<file>', 'experiment file')
      .option('--out <root>', 'output root of the units (default runs/<file>)')
      .option('--dir <dir>', 'where to write the scripts (default <root>/slurm)')
      .option('--partition <name>', 'Slurm partition')
      .option('--cpus-per-task <n>', 'CPUs of each task', positiveInt)
      .option('--gpus <n>', 'GPUs of each training task', positiveInt)
      .option('--time <limit>', 'time limit of each task (Slurm format, e.g. 1:00:00)')
      .option('--max-parallel <n>', 'at most this many tasks of an array at once', positiveInt)
      .option('--distill <command>', 'how the tasks start distill (default: this node and this distill)'),
  ).action(lazy(async () => (await import('./commands/emit.js')).emitSlurmCommand, io));
  apply(
    emit
      .command('k8s')
      .description('Kubernetes Indexed Jobs (teachers, students), a merge Job, a ConfigMap and a Dockerfile')
      .argument('<file>', 'experiment file')
      .requiredOption(
        '--image <image>',
        'container image with the runner (see the Dockerfile written beside)',
      )
      .option('--dir <dir>', 'where to write the manifests (default k8s-<file>)')
      .option('--parallelism <n>', 'pods of one Job at once', positiveInt)
      .option('--pvc <name>', 'PersistentVolumeClaim holding the output root', 'distill-runs')
      .option('--gpus <n>', 'nvidia.com/gpu per training pod', positiveInt)
      .option('--name <name>', 'name prefix of the Kubernetes objects (default from the file name)'),
  ).action(lazy(async () => (await import('./commands/emit.js')).emitK8sCommand, io));

  const data = apply(program.command('data').description('datasets'));
  apply(
    addDataOptions(
      data
        .command('inspect')
        .description(
          'show a dataset: classes with counts, shapes, the split, and every file that could not be read',
        )
        .argument('<name|path>', 'dataset name, an image folder, a table, or folder:|csv:|npy: as --dataset'),
    ).option('--json', 'print as JSON'),
  ).action(lazy(async () => (await import('./commands/data-inspect.js')).dataInspectCommand, io));

  apply(
    program
      .command('status')
      .description(
        'the state of a run directory: complete, running, interrupted (its process is gone), failed or diverged',
      )
      .argument('<run-dir>', 'a run directory')
      .option('--json', 'print as JSON'),
  ).action(lazy(async () => (await import('./commands/status.js')).statusCommand, io));

  const models = apply(
    program
      .command('models')
      .description('the model zoo with parameter counts; `models inspect FILE` describes a teacher file')
      .option('--json', 'print as JSON'),
  ).action(lazy(async () => (await import('./commands/models.js')).modelsCommand, io));
  apply(
    models
      .command('inspect')
      .description(
        'what a teacher file is: format, inputs (shape, layout), outputs, class count, softmax head, operators, weights',
      )
      .argument(
        '<file>',
        'an .onnx file, a tfjs model.json (Layers or graph) or its directory, a run directory, or a teacher-logits directory',
      )
      .option('--json', 'print as JSON'),
  ).action(lazy(async () => (await import('./commands/models.js')).modelsInspectCommand, io));

  apply(
    program
      .command('backends')
      .description("what is installed, what 'auto' picks and why, and which tfjs-core every package uses")
      .option('--json', 'print as JSON')
      .addOption(
        new Option('--backend <name>', 'request to resolve').default('auto').argParser(backendRequest),
      ),
  ).action(lazy(async () => (await import('./commands/backends.js')).backendsCommand, io));

  apply(
    program
      .command('bench')
      .description('training throughput of zoo models (one JSON object per line with --json)')
      .option('--json', 'one JSON object per line')
      .addOption(new Option('--backend <name>', 'backend').default('auto').argParser(backendRequest))
      .option('--models <names>', 'comma-separated model names')
      .option('--batch <n>', 'batch size', positiveInt, 128)
      .option('--steps <n>', 'timed steps per model', positiveInt)
      .option('--warmup <n>', 'untimed warm-up steps per model', positiveInt)
      .option('--tasks <list>', 'train, distill, distill-online (comma-separated)')
      .option(
        '--relaxed-simd <mode>',
        'wasm: relaxed-SIMD multiply-adds in the training kernels: enable (sets the V8 flag on Node 20), auto, off',
        'enable',
      ),
  ).action(lazy(async () => (await import('./commands/bench.js')).benchCommand, io));

  const reproduce = apply(program.command('reproduce').description("reproduce the paper's experiments"));
  apply(
    addCommonOptions(
      addReproduceOptions(reproduce.command('hinton'))
        .description(
          "Hinton et al. (2015) MNIST: teacher, baseline and distilled student (T = 20), a temperature sweep and a 30-unit student sweep, mean ± std over seeds beside the paper's numbers",
        )
        .option('--seeds <n>', 'number of seeds', positiveInt, 3)
        .option('--no-sweeps', 'skip the temperature and small-student sweeps')
        .option(
          '--student-seeds <n>',
          'student seeds per teacher seed (default: one, the teacher seed)',
          positiveInt,
        )
        .option(
          '--alpha <a>',
          'weight of the soft-target loss of every distilled student (0-1)',
          unitNumber,
          0.5,
        )
        .option(
          '--jitter <px>',
          "teacher's random input shifts, in pixels (the paper: 2 for MNIST)",
          nonNegativeInt,
          2,
        )
        .option('--resume <dir>', 'continue an interrupted run'),
    ),
  ).action(lazy(async () => (await import('./commands/reproduce-hinton.js')).reproduceHintonCommand, io));
  apply(
    addCommonOptions(
      addReproduceOptions(reproduce.command('hinton-omit'))
        .description(
          'the left-out class: distil with every example of one class removed from the transfer set, then raise that class bias',
        )
        .option('--class <id>', 'class to leave out', nonNegativeInt, 3)
        .option('--seed <n>', 'seed', integer, 1)
        .option('--resume <dir>', 'continue an interrupted run'),
    ),
  ).action(lazy(async () => (await import('./commands/reproduce-omit.js')).reproduceOmitCommand, io));

  return program;
}
