import { describe, expect, it } from 'vitest';
import { parseFeatureRows } from './feature-rows.js';

describe('parseFeatureRows: rows to predict on, as the model was trained', () => {
  it('reads a header by name, in any order, ignoring other columns such as the label', () => {
    const text = 'label,b,a\ncat,2,1\ndog,4.5,-3\n';
    const rows = parseFeatureRows(text, 'new.csv', { width: 2, featureNames: ['a', 'b'] });
    expect(rows.count).toBe(2);
    expect([...rows.features]).toEqual([1, 2, -3, 4.5]);
    expect(rows.lines).toEqual([2, 3]);
  });

  it('reads headerless rows positionally, tab-separated too', () => {
    const rows = parseFeatureRows('1\t2\t3\n4\t5\t6\n', 'new.tsv', { width: 3, delimiter: '\t' });
    expect([...rows.features]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.lines).toEqual([1, 2]);
  });

  it('names the file, line and column of a bad row', () => {
    const opts = { width: 2, featureNames: ['a', 'b'] };
    expect(() => parseFeatureRows('a,b\n1,2\n3\n', 'new.csv', opts)).toThrow(
      'new.csv: line 3: has 1 fields, expected 2 like the header',
    );
    expect(() => parseFeatureRows('a,b\n1,x\n', 'new.csv', opts)).toThrow(
      'new.csv: line 2, column "b": "x" is not a number',
    );
    expect(() => parseFeatureRows('a,c\n1,2\n', 'new.csv', opts)).toThrow(
      `new.csv: header: no column "b"; the model's features are a, b`,
    );
    expect(() => parseFeatureRows('1,2,7\n', 'new.csv', { width: 2 })).toThrow(
      "new.csv: line 1: has 3 fields, expected 2 (the model's features, without a label column)",
    );
    expect(() => parseFeatureRows('x,y\n1,2\n', 'new.csv', { width: 2 })).toThrow(
      'new.csv: line 1, column 1: "x" is not a number',
    );
    expect(() => parseFeatureRows('', 'new.csv', { width: 2 })).toThrow(
      'new.csv: line 1: the file holds no rows',
    );
  });
});
