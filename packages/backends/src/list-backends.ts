import type { BackendName } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { AUTO_ORDER, BACKENDS } from './backend-catalog.js';
import { detectRuntime, importNode, type Runtime } from './runtime.js';
import {
  installCommand,
  type SelectBackendOptions,
  type SelectedBackend,
  selectBackend,
} from './select-backend.js';

/** One row of {@link listBackends}. */
export interface BackendStatus {
  readonly backend: BackendName;
  readonly tfjsName: string;
  readonly packageName: string;
  readonly description: string;
  /**
   * Whether the package can be found (Node: resolved on disk, with the other packages it needs there;
   * browser: registered with tfjs).
   */
  readonly installed: boolean;
  /** Whether it can run in this runtime at all. */
  readonly runsHere: boolean;
  /** Its place in `auto`'s order here (1 = tried first), or undefined when auto never tries it here. */
  readonly autoRank: number | undefined;
  /** The command that installs it. */
  readonly installCommand: string;
}

async function resolvable(pkg: string): Promise<boolean> {
  try {
    const { createRequire } = await importNode<typeof import('node:module')>('node:module');
    const { existsSync } = await importNode<typeof import('node:fs')>('node:fs');
    const file = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return existsSync(file);
  } catch {
    return false;
  }
}

/**
 * Lists every backend distilljs knows with whether it is installed and runs here, without loading any of
 * them (no native library is opened, no wasm is compiled).
 */
export async function listBackends(options: { runtime?: Runtime } = {}): Promise<BackendStatus[]> {
  const runtime = options.runtime ?? detectRuntime();
  const order = AUTO_ORDER[runtime];
  return Promise.all(
    BACKENDS.map(async (info) => {
      const needed = [info.packageName, ...(info.nodePackages ?? []).map((p) => p.replace(/(.)@.*$/, '$1'))];
      const installed =
        runtime === 'node'
          ? (await Promise.all(needed.map(resolvable))).every(Boolean)
          : tf.findBackendFactory(info.tfjsName) !== null;
      const rank = order.indexOf(info.backend);
      return {
        backend: info.backend,
        tfjsName: info.tfjsName,
        packageName: info.packageName,
        description: info.description,
        installed,
        runsHere: info.runtimes.includes(runtime),
        autoRank: rank < 0 ? undefined : rank + 1,
        installCommand: installCommand(info.backend, runtime),
      };
    }),
  );
}

/** What `distill backends` shows: the runtime, every backend's status, and what `auto` picks and why. */
export interface BackendsReport {
  readonly runtime: Runtime;
  readonly tfjsVersion: string;
  readonly backends: readonly BackendStatus[];
  /** The result of `selectBackend('auto')` (which activates that backend). */
  readonly auto: SelectedBackend;
}

/**
 * Lists the backends and runs `selectBackend('auto', options)`, so the report says what auto picks here and
 * why (every attempt with its reason). Leaves the picked backend active.
 */
export async function describeBackends(options: SelectBackendOptions = {}): Promise<BackendsReport> {
  const runtime = options.runtime ?? detectRuntime();
  const backends = await listBackends({ runtime });
  const auto = await selectBackend('auto', { ...options, runtime });
  return { runtime, tfjsVersion: tf.version_core, backends, auto };
}
