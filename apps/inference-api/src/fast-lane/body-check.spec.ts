import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsDefined,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
  validateSync,
} from 'class-validator';
import { KServePredictRequest } from '../models/kserve.dto';
import { InferenceRequest } from '../v2/open-inference.dto';
import { PredictRequest } from '../predict/predict.dto';
import { compileBodyCheck } from './body-check';

/** What the app's ValidationPipe concludes about a body (same options as httpEdgeGlobals): the lane must agree. */
function pipeAccepts(dto: new () => object, body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  // A body from JSON holds no Set or Map, which plainToInstance would turn into plain objects: those are checked
  // by class-validator as they are, which is what the lane mirrors.
  const values = Object.values(body);
  const instance = values.some((value) => value instanceof Set || value instanceof Map)
    ? Object.assign(new dto(), body)
    : plainToInstance(dto, body, { enableImplicitConversion: false });
  return validateSync(instance, { whitelist: true, forbidNonWhitelisted: true }).length === 0;
}

@ValidatorConstraint({ name: 'isEven' })
class IsEven implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'number' && value % 2 === 0;
  }
}

@ValidatorConstraint({ name: 'atMostArg' })
class AtMostArg implements ValidatorConstraintInterface {
  /** Reads the rule's constraint and another property of the object, as a real cross-field rule would. */
  validate(value: unknown, args: ValidationArguments): boolean {
    const limit = (args.object as Record<string, unknown>).limit;
    return (
      typeof value === 'number' &&
      value <= (args.constraints[0] as number) &&
      args.property === 'reading' &&
      (limit === undefined || value <= Number(limit))
    );
  }
}

class Reading {
  @IsDefined() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(10) value!: number;
  @IsInt({ each: true }) @Validate(IsEven, { each: true }) counts!: unknown;
  @Validate(AtMostArg, [5]) reading!: number;
  @IsNumber() @Validate(IsEven) limit!: number;
}

const reading = { value: 3, counts: [2, 4], reading: 4, limit: 4 };

const bodies: Array<[string, unknown]> = [
  ['a valid body', reading],
  ['null', null],
  ['an array', [reading]],
  ['a number', 7],
  ['a string', 'body'],
  ['an unknown property', { ...reading, extra: 1 }],
  ['an unknown property set to undefined', { ...reading, extra: undefined }],
  ['a missing required property', { counts: [2], reading: 1, limit: 2 }],
  ['a required property set to null', { ...reading, value: null }],
  ['a value over its maximum', { ...reading, value: 11 }],
  ['a value of the wrong type', { ...reading, value: '3' }],
  ['an odd element of an each-rule array', { ...reading, counts: [2, 3] }],
  ['a fractional element of an each-rule array', { ...reading, counts: [2.5] }],
  ['an each-rule set', { ...reading, counts: new Set([2, 4]) }],
  ['an each-rule set with an odd element', { ...reading, counts: new Set([2, 5]) }],
  ['an each-rule map', { ...reading, counts: new Map([['a', 2]]) }],
  ['an each-rule map with an odd value', { ...reading, counts: new Map([['a', 3]]) }],
  ['an each-rule single value', { ...reading, counts: 4 }],
  ['an odd each-rule single value', { ...reading, counts: 3 }],
  ['an empty each-rule array', { ...reading, counts: [] }],
  ['a custom rule over its constraint', { ...reading, reading: 6, limit: 8 }],
  ['a custom rule over another property', { ...reading, reading: 4, limit: 2 }],
  ['a custom rule failing alone', { ...reading, limit: 3 }],
];

describe('compileBodyCheck', () => {
  const check = compileBodyCheck(Reading);

  it.each(bodies)('agrees with the ValidationPipe on %s', (_, body) => {
    expect(check(body)).toBe(pipeAccepts(Reading, body));
  });

  it('accepts a valid body and refuses each kind of invalid one', () => {
    const accepted = bodies.filter(([, body]) => check(body)).map(([name]) => name);
    expect(accepted).toEqual([
      'a valid body',
      'an each-rule set',
      'an each-rule map',
      'an each-rule single value',
      'an empty each-rule array',
    ]);
  });

  it.each([
    [PredictRequest, { features: [1, 2] }, true],
    [PredictRequest, { features: [] }, false],
    [PredictRequest, { features: 'x' }, false],
    [PredictRequest, { features: [1], model: 'm' }, false],
    [PredictRequest, {}, false],
    [KServePredictRequest, { instances: [[1], { a: 1 }] }, true],
    [KServePredictRequest, { instances: [] }, false],
    [KServePredictRequest, { instances: {} }, false],
  ] as const)('checks the fast lane DTO %p as the pipe does: %j', (dto, body, expected) => {
    expect(compileBodyCheck(dto)(body)).toBe(expected);
    expect(pipeAccepts(dto, body)).toBe(expected);
  });

  it('requires a @IsDefined() property to be there and not null, whatever its value', () => {
    class Labelled {
      @IsDefined() label!: unknown;
    }
    const labelled = compileBodyCheck(Labelled);
    for (const body of [
      { label: 0 },
      { label: '' },
      { label: false },
      { label: null },
      { label: undefined },
      {},
    ]) {
      expect(labelled(body)).toBe(pipeAccepts(Labelled, body));
    }
    expect([{ label: 0 }, { label: null }, {}].map((body) => labelled(body))).toEqual([true, false, false]);
  });

  it('refuses a body that is not an object even when every rule would pass it', () => {
    @ValidatorConstraint({ name: 'anything' })
    class Anything implements ValidatorConstraintInterface {
      validate(): boolean {
        return true;
      }
    }
    class Note {
      @Validate(Anything) note?: unknown;
    }
    const note = compileBodyCheck(Note);
    expect(note({})).toBe(true);
    expect(note({ note: 'x' })).toBe(true);
    for (const body of [7, true, '', 'text', null, [], [{}]]) {
      expect(note(body)).toBe(false);
      expect(pipeAccepts(Note, body)).toBe(false);
    }
  });

  describe('refuses at boot a rule it cannot reproduce, naming the DTO and property', () => {
    class Conditional {
      @IsNumber({}, { validateIf: () => true }) x!: number;
    }
    class ValidatedIf {
      @ValidateIf(() => true) @IsNumber() x!: number;
    }
    class Grouped {
      @IsNumber({}, { groups: ['a'] }) x!: number;
    }
    class Transformed {
      @Transform(({ value }) => Number(value)) @IsNumber() x!: number;
    }
    class Typed {
      @Type(() => Number) @IsNumber() x!: number;
    }
    class NestedUntyped {
      @ValidateNested() reading!: Reading;
    }
    @ValidatorConstraint({ name: 'remoteCheck', async: true })
    class RemoteCheck implements ValidatorConstraintInterface {
      validate(): Promise<boolean> {
        return Promise.resolve(true);
      }
    }
    class Async {
      @IsString() @Validate(RemoteCheck) x!: string;
    }

    it.each([
      [Conditional, 'fast lane: cannot check groups or conditions on Conditional.x'],
      [Grouped, 'fast lane: cannot check groups or conditions on Grouped.x'],
      [Transformed, 'fast lane: cannot check @Transform on Transformed.x'],
      [Typed, 'fast lane: cannot check @Type on Typed.x'],
      [
        NestedUntyped,
        'fast lane: cannot check nested validation without @Type(() => Dto) on NestedUntyped.reading',
      ],
      [Async, 'fast lane: cannot check async @remoteCheck on Async.x'],
    ] as const)('%p', (dto, message) => {
      expect(() => compileBodyCheck(dto)).toThrow(new Error(message));
    });

    it('names the kind of a rule that is not a plain constraint', () => {
      expect(() => compileBodyCheck(ValidatedIf)).toThrow(
        new Error(
          'fast lane: cannot check a conditionalValidation rule (@conditionalValidation) on ValidatedIf.x',
        ),
      );
    });
  });
});

describe('compileBodyCheck on optional properties and nested DTOs', () => {
  class Tag {
    @IsString() key!: string;
    @IsOptional() @IsInt() weight?: number;
  }
  class Tagged {
    @IsOptional() @IsString() id?: string;
    @IsArray() @ValidateNested({ each: true }) @Type(() => Tag) tags!: Tag[];
    @IsOptional() @ValidateNested() @Type(() => Tag) main?: Tag;
  }
  /** A DTO that nests itself: compiled once, checked to any depth the body has. */
  class Tree {
    @IsInt() value!: number;
    @IsOptional() @ValidateNested() @Type(() => Tree) child?: Tree;
  }
  const tag = { key: 'a' };
  const nestedBodies: Array<[string, unknown]> = [
    ['a valid body', { tags: [tag] }],
    ['every optional property given', { id: 'x', tags: [{ key: 'a', weight: 2 }], main: tag }],
    ['optional properties null', { id: null, tags: [{ key: 'a', weight: null }], main: null }],
    ['an optional property of the wrong type', { id: 7, tags: [tag] }],
    ['no nested array', {}],
    ['an empty nested array', { tags: [] }],
    ['a nested element with an unknown key', { tags: [{ key: 'a', extra: 1 }] }],
    ['a nested element failing a rule', { tags: [{ key: 5 }] }],
    ['a nested element failing an optional rule', { tags: [{ key: 'a', weight: 1.5 }] }],
    ['a nested element that is a number', { tags: [tag, 3] }],
    ['a nested element that is null', { tags: [null] }],
    ['a nested object instead of an array', { tags: tag }],
    ['a single nested object', { tags: [tag], main: { key: 'b' } }],
    ['a single nested object failing', { tags: [tag], main: { key: 'b', weight: 'x' } }],
    ['a single nested value that is a string', { tags: [tag], main: 'b' }],
  ];
  const tagged = compileBodyCheck(Tagged);

  it.each(nestedBodies)('agrees with the ValidationPipe on %s', (_, body) => {
    expect(tagged(body)).toBe(pipeAccepts(Tagged, body));
  });

  it('accepts exactly the valid bodies', () => {
    expect(nestedBodies.filter(([, body]) => tagged(body)).map(([name]) => name)).toEqual([
      'a valid body',
      'every optional property given',
      'optional properties null',
      'an empty nested array',
      'a single nested object',
    ]);
  });

  it('skips a nested property that is absent, as class-validator does, even without @IsOptional', () => {
    class Loose {
      @ValidateNested() @Type(() => Tag) main?: Tag;
    }
    const loose = compileBodyCheck(Loose);
    for (const body of [{}, { main: tag }, { main: { key: 1 } }, { main: null }]) {
      expect(loose(body)).toBe(pipeAccepts(Loose, body));
    }
    expect([loose({}), loose({ main: tag }), loose({ main: null })]).toEqual([true, true, false]);
  });

  it('compiles a DTO that nests itself and checks each level', () => {
    const tree = compileBodyCheck(Tree);
    const deep = { value: 1, child: { value: 2, child: { value: 3 } } };
    const bad = { value: 1, child: { value: 2, child: { value: 'x' } } };
    expect([tree(deep), tree(bad)]).toEqual([true, false]);
    expect([pipeAccepts(Tree, deep), pipeAccepts(Tree, bad)]).toEqual([true, false]);
  });

  it.each([
    [
      'a binary request',
      {
        inputs: [{ name: 'x', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } }],
        parameters: { binary_data_output: true },
      },
    ],
    [
      'a JSON request',
      {
        id: '7',
        inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }],
        outputs: [{ name: 'y' }],
      },
    ],
    ['a negative dimension', { inputs: [{ name: 'x', shape: [-1, 2], datatype: 'FP32', data: [1, 2] }] }],
    [
      'an unknown input field',
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1], extra: 1 }] },
    ],
    [
      'an output without a name',
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: [{}] },
    ],
    ['inputs as an object', { inputs: { name: 'x', shape: [1], datatype: 'FP32', data: [1] } }],
    [
      'parameters as an array',
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], parameters: [] },
    ],
  ])('checks the Open Inference Protocol request as the pipe does: %s', (name, body) => {
    const expected = name === 'a binary request' || name === 'a JSON request';
    expect(compileBodyCheck(InferenceRequest)(body)).toBe(expected);
    expect(pipeAccepts(InferenceRequest, body)).toBe(expected);
  });
});
