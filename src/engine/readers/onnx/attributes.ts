/** A node's attributes, read with the types and defaults the operator's specification gives. */
import { AttributeType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnxProto';
import { OpError } from './ops/types';

export class Attributes {
  private readonly byName: ReadonlyMap<string, OnnxAttribute>;

  constructor(node: OnnxNode) {
    this.byName = node.attributes;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const attribute = this.typed(name, AttributeType.Int);
    return attribute ? (attribute.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const attribute = this.typed(name, AttributeType.Float);
    return attribute ? (attribute.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string {
    const attribute = this.typed(name, AttributeType.String);
    return attribute ? new TextDecoder().decode(attribute.s ?? new Uint8Array(0)) : fallback;
  }

  ints(name: string): number[] | undefined {
    return this.typed(name, AttributeType.Ints)?.ints;
  }

  floats(name: string): number[] | undefined {
    return this.typed(name, AttributeType.Floats)?.floats;
  }

  tensor(name: string): OnnxTensor | undefined {
    return this.typed(name, AttributeType.Tensor)?.t;
  }

  private typed(name: string, type: AttributeType): OnnxAttribute | undefined {
    const attribute = this.byName.get(name);
    if (!attribute) return undefined;
    // Some writers store a one-element list where a scalar is expected.
    if (attribute.type === AttributeType.Ints && type === AttributeType.Int && attribute.ints.length === 1) {
      return { ...attribute, type, i: attribute.ints[0] };
    }
    if (attribute.type === AttributeType.Floats && type === AttributeType.Float && attribute.floats.length === 1) {
      return { ...attribute, type, f: attribute.floats[0] };
    }
    if (attribute.type === AttributeType.Int && type === AttributeType.Float) return { ...attribute, type, f: attribute.i };
    if (attribute.type !== type) throw new OpError(`has its attribute "${name}" of the wrong type`);
    return attribute;
  }
}
