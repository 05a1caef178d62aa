import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');

export interface WorkspacePackage {
  readonly dir: string;
  readonly name: string;
  readonly private: boolean;
  readonly json: Record<string, unknown>;
}

/** Every workspace package and app, read from packages/* and apps/*. */
export function workspacePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(ROOT, group, entry.name);
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      out.push({ dir, name: String(json.name), private: json.private === true, json });
    }
  }
  return out;
}

/** The packages published to npm (not private). */
export function publishablePackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.private);
}

/** The first fenced code block of the given language in a README, or undefined. */
export function firstCodeBlock(markdown: string, lang: string): string | undefined {
  const re = new RegExp(`\`\`\`${lang}\\s*\\n([\\s\\S]*?)\`\`\``, 'm');
  return re.exec(markdown)?.[1];
}

/** Every fenced code block of the given language in a README, in order. */
export function codeBlocks(markdown: string, lang: string): string[] {
  const re = new RegExp(`\`\`\`${lang}\\s*\\n([\\s\\S]*?)\`\`\``, 'gm');
  return [...markdown.matchAll(re)].map((m) => m[1]!);
}
