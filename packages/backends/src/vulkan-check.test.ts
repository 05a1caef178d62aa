import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkVulkan } from './vulkan-check.js';

const root = mkdtempSync(join(tmpdir(), 'vulkan-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A directory tree of its own: `lib/` for the loader, `share/vulkan/icd.d/` for driver manifests. */
function tree(name: string, files: { loader?: boolean; icd?: boolean }) {
  const dir = join(root, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  mkdirSync(join(dir, 'share', 'vulkan', 'icd.d'), { recursive: true });
  if (files.loader) writeFileSync(join(dir, 'lib', 'libvulkan.so.1'), '');
  if (files.icd) {
    writeFileSync(
      join(dir, 'share', 'vulkan', 'icd.d', 'nvidia_icd.json'),
      JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libGLX_nvidia.so.0' } }),
    );
  }
  const env = { HOME: dir, XDG_DATA_DIRS: join(dir, 'share'), XDG_CONFIG_DIRS: join(dir, 'etc') };
  return { dir, env, lib: join(dir, 'lib') };
}

describe('checkVulkan', () => {
  it('names the missing loader and how to get it, in one line', async () => {
    const t = tree('no-loader', { icd: true });
    const check = await checkVulkan({ env: t.env, systemDirs: false });
    expect(check.loader).toBeUndefined();
    expect(check.problem).toMatch(
      /^the Vulkan loader libvulkan\.so\.1 was not found: apt-get install libvulkan1/,
    );
    expect(check.problem).not.toContain('\n');
  });

  it('finds the loader beside dawn.node or on LD_LIBRARY_PATH', async () => {
    const t = tree('loader-beside', { loader: true, icd: true });
    const beside = await checkVulkan({ env: t.env, systemDirs: false, extraLoaderDirs: [t.lib] });
    expect(beside.loader).toBe(join(t.lib, 'libvulkan.so.1'));
    const onPath = await checkVulkan({
      env: { ...t.env, LD_LIBRARY_PATH: `/nowhere:${t.lib}` },
      systemDirs: false,
    });
    expect(onPath.loader).toBe(join(t.lib, 'libvulkan.so.1'));
    expect(onPath.problem).toBeUndefined();
    expect(onPath.icds).toEqual([join(t.dir, 'share', 'vulkan', 'icd.d', 'nvidia_icd.json')]);
  });

  it('names a missing driver (no ICD file) with the directories searched and the fix', async () => {
    const t = tree('no-icd', { loader: true });
    const check = await checkVulkan({ env: t.env, systemDirs: false, extraLoaderDirs: [t.lib] });
    expect(check.icds).toEqual([]);
    expect(check.problem).toMatch(
      /^no Vulkan driver found \(no ICD file in .*share\/vulkan\/icd\.d\): install the GPU's driver/,
    );
    expect(check.problem).not.toContain('\n');
  });

  it('checks the files VK_ICD_FILENAMES names', async () => {
    const t = tree('named', { loader: true });
    const icd = join(t.dir, 'my_icd.json');
    writeFileSync(icd, '{}');
    const ok = await checkVulkan({
      env: { ...t.env, VK_ICD_FILENAMES: icd },
      systemDirs: false,
      extraLoaderDirs: [t.lib],
    });
    expect(ok).toEqual({ loader: join(t.lib, 'libvulkan.so.1'), icds: [icd], problem: undefined });
    const gone = join(t.dir, 'gone.json');
    const bad = await checkVulkan({
      env: { ...t.env, VK_ICD_FILENAMES: gone },
      systemDirs: false,
      extraLoaderDirs: [t.lib],
    });
    expect(bad.problem).toBe(`VK_ICD_FILENAMES names ${gone}, which does not exist`);
  });
});
