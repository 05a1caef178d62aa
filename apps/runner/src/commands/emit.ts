import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { RunFailedError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { listJobUnits } from '../job-units.js';
import { k8sManifests, k8sName } from '../k8s-manifests.js';
import { outputRoot } from '../output-root.js';
import { writeFileAtomic } from '../run-dir.js';
import { RUNNER_DOCKERFILE, RUNNER_DOCKERIGNORE } from '../runner-dockerfile.js';
import { shellQuote, slurmScripts } from '../slurm-scripts.js';
import { readExperimentFile } from './run.js';

function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new RunFailedError(`cannot create ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

function fileStem(file: string): string {
  return basename(file).replace(/\.(ya?ml|json)$/i, '');
}

/** `distill emit slurm FILE`: writes the sbatch scripts and submit.sh of an experiment. */
export async function emitSlurmCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const file = args[0]!;
  const exp = readExperimentFile(file);
  const units = listJobUnits(exp);
  const root = outputRoot(file, opts.out as string | undefined);
  const dir = resolve((opts.dir as string | undefined) ?? join(root, 'slurm'));
  makeDir(join(dir, 'logs'));
  const distill =
    (opts.distill as string | undefined) ??
    `${shellQuote(process.execPath)} ${shellQuote(resolve(process.argv[1]!))}`;
  const files = slurmScripts(units, {
    file: resolve(file),
    root,
    dir,
    distill,
    name: k8sName(exp.name ?? fileStem(file)),
    partition: opts.partition as string | undefined,
    cpusPerTask: opts.cpusPerTask as number | undefined,
    gpus: opts.gpus as number | undefined,
    time: opts.time as string | undefined,
    maxParallel: opts.maxParallel as number | undefined,
  });
  for (const [name, text] of Object.entries(files)) {
    writeFileAtomic(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
  println(
    io.stdout,
    `wrote ${Object.keys(files).join(', ')} to ${dir} (${units.length} units, output root ${root})`,
  );
  println(io.stdout, `submit with: bash ${join(dir, 'submit.sh')}`);
}

/** `distill emit k8s FILE --image IMAGE`: writes the Kubernetes manifests and the runner's Dockerfile. */
export async function emitK8sCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const file = args[0]!;
  const exp = readExperimentFile(file);
  const units = listJobUnits(exp);
  const stem = fileStem(file);
  const dir = resolve((opts.dir as string | undefined) ?? `k8s-${stem}`);
  makeDir(dir);
  const manifests = k8sManifests(units, {
    name: k8sName((opts.name as string | undefined) ?? stem),
    image: opts.image as string,
    fileName: basename(file),
    fileText: readFileSync(file, 'utf8'),
    pvc: (opts.pvc as string | undefined) ?? 'distill-runs',
    parallelism: opts.parallelism as number | undefined,
    gpus: opts.gpus as number | undefined,
  });
  for (const [name, object] of Object.entries(manifests)) writeFileAtomic(join(dir, name), stringify(object));
  writeFileAtomic(join(dir, 'Dockerfile'), RUNNER_DOCKERFILE);
  writeFileAtomic(join(dir, 'Dockerfile.dockerignore'), RUNNER_DOCKERIGNORE);
  println(
    io.stdout,
    `wrote ${[...Object.keys(manifests), 'Dockerfile', 'Dockerfile.dockerignore'].join(', ')} to ${dir} (${units.length} units)`,
  );
  println(
    io.stdout,
    `apply with: kubectl apply -f ${dir}  (the PersistentVolumeClaim ${opts.pvc ?? 'distill-runs'} must exist, ReadWriteMany when pods share nodes)`,
  );
}
