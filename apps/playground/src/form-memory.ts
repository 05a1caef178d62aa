import type { RawRunSettings } from './run-settings.js';

const KEY = 'distilljs-playground:form';

/** Keeps the form's text for the next visit (localStorage; a few hundred bytes). */
export function storeFormSettings(raw: RawRunSettings & { reuseTeacher?: string }): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(raw));
  } catch {
    // storage off or full: the form starts from its defaults next time
  }
}

/** The form text kept by an earlier visit (only string values are taken). */
export function readFormSettings(): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    if (!v || typeof v !== 'object') return {};
    return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}
