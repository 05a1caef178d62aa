import { ConfigError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { parseExperiment, validateExperiment } from './experiment-schema.js';

const good = {
  dataset: { name: 'synthetic', trainSize: 64 },
  teacher: { model: 'hinton-teacher', epochs: 1 },
  students: [
    { name: 'baseline', model: 'hinton-student', loss: 'ce' },
    { name: 'distilled', model: 'hinton-student', temperature: 20 },
  ],
};

describe('experiment schema', () => {
  it('accepts a valid experiment in YAML and JSON', () => {
    const yaml = `dataset: { name: synthetic }\nteacher: { model: hinton-teacher }\nstudents:\n  - { name: s, model: hinton-student, temperature: 4, alpha: 0.5 }\nseeds: [1, 2]\n`;
    expect(parseExperiment(yaml, 'e.yaml').seeds).toEqual([1, 2]);
    expect(parseExperiment(JSON.stringify(good), 'e.json').students[1]?.temperature).toBe(20);
  });

  it('reports a bad value with its path in the file, what is valid and what was given', () => {
    const bad = structuredClone(good) as typeof good & { students: Record<string, unknown>[] };
    bad.students[1]!.temperature = -1;
    expect(() => validateExperiment(bad, 'x.yaml')).toThrow(
      'x.yaml: students[1].temperature: expected a number > 0, got -1',
    );
  });

  it('names unknown keys, wrong types, enum values and missing fields', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, studnets: [] }, /\(top level\): unknown key "studnets"/],
      [
        { ...good, dataset: { name: 'imagenet' } },
        /dataset.name: expected one of "mnist-embedded", .*got "imagenet"/,
      ],
      [{ ...good, seeds: ['a'] }, /seeds\[0\]: expected a number, got "a"/],
      [{ dataset: good.dataset }, /students: nothing to train/],
      [
        { ...good, students: [{ name: 's', model: 'm', alpha: 2 }] },
        /students\[0\].alpha: expected a number <= 1, got 2/,
      ],
      [{ ...good, teacher: undefined }, /students\[1\].loss: .*has no teacher/],
      [
        { ...good, students: [good.students[0], good.students[0]] },
        /students\[1\].name: duplicate student name/,
      ],
    ];
    for (const [input, message] of cases) {
      expect(() => validateExperiment(input, 'f.yaml')).toThrow(message);
    }
  });

  it('reports YAML and JSON syntax errors with the file and position', () => {
    const err = (() => {
      try {
        parseExperiment('dataset: {name: synthetic\nstudents: [', 'bad.yaml');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^bad\.yaml:\d+:\d+: not valid YAML/);
    expect(() => parseExperiment('{"dataset": ', 'bad.json')).toThrow(/^bad\.json: not valid JSON/);
    expect(() => parseExperiment('- 1\n- 2\n', 'list.yaml')).toThrow(/list.yaml: expected a mapping/);
  });
});
