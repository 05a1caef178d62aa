import { InvalidFileError } from '@distilljs/core';

/** One tensor of an ONNX graph's inputs or outputs: name and shape (a number, a symbolic name, or `null`). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly shape: readonly (number | string | null)[];
}

/** One node of an ONNX graph. */
export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** What {@link readOnnxGraph} finds in an ONNX model file. */
export interface OnnxGraphInfo {
  readonly irVersion: number;
  readonly producer: string;
  readonly opset: number | undefined;
  readonly nodes: readonly OnnxNode[];
  /** Graph inputs that are not initializers (the model's real inputs). */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** Number of values in the initializers (the weights). */
  readonly parameterCount: number;
}

class Truncated extends Error {}

/** A reader of protobuf's wire format, enough for the ONNX fields distilljs needs. */
class Wire {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Truncated();
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('a varint longer than 10 bytes');
  }
  /** Calls `field(number, wireType, sub)` for every field until `end`; `sub` reads a length-delimited value. */
  fields(field: (n: number, type: number, sub: () => Wire, wire: Wire) => void): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const n = Math.floor(key / 8);
      const type = key & 7;
      const at = this.pos;
      let consumed = false;
      const sub = () => {
        const len = this.varint();
        if (this.pos + len > this.end) throw new Truncated();
        const w = new Wire(this.bytes, this.pos, this.pos + len);
        this.pos += len;
        consumed = true;
        return w;
      };
      field(n, type, sub, this);
      if (!consumed && this.pos === at) this.skip(type);
    }
  }
  skip(type: number): void {
    if (type === 0) this.varint();
    else if (type === 1) this.pos += 8;
    else if (type === 5) this.pos += 4;
    else if (type === 2) {
      const len = this.varint();
      this.pos += len;
    } else throw new Error(`wire type ${type}`);
    if (this.pos > this.end) throw new Truncated();
  }
  string(): string {
    return new TextDecoder().decode(this.bytes.subarray(this.pos, this.end));
  }
}

function valueInfo(w: Wire): OnnxValueInfo {
  let name = '';
  const shape: (number | string | null)[] = [];
  w.fields((n, _t, sub) => {
    if (n === 1) name = sub().string();
    else if (n === 2)
      sub().fields((tn, _tt, tsub) => {
        if (tn !== 1) return; // tensor_type
        tsub().fields((en, _et, esub) => {
          if (en !== 2) return; // shape
          esub().fields((dn, _dt, dsub) => {
            if (dn !== 1) return;
            let dim: number | string | null = null;
            dsub().fields((vn, vt, vsub, vw) => {
              if (vn === 1 && vt === 0) dim = vw.varint();
              if (vn === 2 && vt === 2) dim = vsub().string();
            });
            shape.push(dim);
          });
        });
      });
  });
  return { name, shape };
}

/**
 * Reads the graph of an ONNX model file (protobuf `ModelProto`): nodes, inputs, outputs with their shapes,
 * and the number of weights. Throws an {@link InvalidFileError} naming `source` when the bytes are not an
 * ONNX model or are truncated.
 */
export function readOnnxGraph(bytes: Uint8Array, source: string): OnnxGraphInfo {
  let irVersion = 0;
  let producer = '';
  let opset: number | undefined;
  let graph: Wire | undefined;
  try {
    new Wire(bytes, 0, bytes.length).fields((n, type, sub, w) => {
      if (n === 1 && type === 0) irVersion = w.varint();
      else if (n === 2 && type === 2) producer = sub().string();
      else if (n === 7 && type === 2) graph = sub();
      else if (n === 8 && type === 2) {
        let domain = '';
        let version = 0;
        sub().fields((on, ot, osub, ow) => {
          if (on === 1 && ot === 2) domain = osub().string();
          if (on === 2 && ot === 0) version = ow.varint();
        });
        if (domain === '' || domain === 'ai.onnx') opset = version;
      }
    });
  } catch (err) {
    throw fileError(source, bytes, err);
  }
  if (!graph) {
    throw new InvalidFileError(
      `${source}: not an ONNX model (no graph in ${bytes.length} bytes); expected a file written by torch.onnx.export or another ONNX exporter`,
      { where: source },
    );
  }
  const nodes: OnnxNode[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers = new Set<string>();
  let parameterCount = 0;
  try {
    (graph as Wire).fields((n, type, sub) => {
      if (type !== 2) return;
      if (n === 1) nodes.push(node(sub()));
      else if (n === 5) {
        const t = tensorInfo(sub());
        initializers.add(t.name);
        parameterCount += t.size;
      } else if (n === 11) inputs.push(valueInfo(sub()));
      else if (n === 12) outputs.push(valueInfo(sub()));
    });
  } catch (err) {
    throw fileError(source, bytes, err);
  }
  return {
    irVersion,
    producer,
    opset,
    nodes,
    inputs: inputs.filter((i) => !initializers.has(i.name)),
    outputs,
    parameterCount,
  };
}

function fileError(source: string, bytes: Uint8Array, err: unknown): InvalidFileError {
  const what =
    err instanceof Truncated
      ? `truncated: it ends inside a record after ${bytes.length} bytes`
      : `not an ONNX model (${(err as Error).message})`;
  return new InvalidFileError(`${source}: ${what}; expected a complete .onnx file`, {
    where: source,
    cause: err,
  });
}

function node(w: Wire): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  w.fields((n, type, sub) => {
    if (type !== 2) return;
    if (n === 1) inputs.push(sub().string());
    else if (n === 2) outputs.push(sub().string());
    else if (n === 3) name = sub().string();
    else if (n === 4) opType = sub().string();
    else if (n === 7) domain = sub().string();
  });
  return { name, opType, domain, inputs, outputs };
}

function tensorInfo(w: Wire): { name: string; size: number } {
  const dims: number[] = [];
  let name = '';
  w.fields((n, type, sub, wire) => {
    if (n === 1 && type === 0) dims.push(wire.varint());
    else if (n === 1 && type === 2) {
      const packed = sub();
      while (packed.pos < packed.end) dims.push(packed.varint());
    } else if (n === 8 && type === 2) name = sub().string();
  });
  return { name, size: dims.reduce((a, b) => a * b, 1) };
}
