import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsNumber, IsString, validateSync, ValidateNested } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { DomainError } from './domain-error';
import { flattenValidationErrors, validationProblem } from './validation-problem';

class Item {
  @IsString()
  name!: string;

  @IsNumber({}, { each: true })
  values!: number[];
}

class Body {
  @IsArray()
  @ArrayMinSize(1)
  features!: number[];

  @ValidateNested({ each: true })
  @Type(() => Item)
  items!: Item[];
}

function errorsOf(plain: object) {
  return validateSync(plainToInstance(Body, plain));
}

describe('validationProblem', () => {
  it('flattens nested errors to field paths and puts the path into each message', () => {
    const problems = flattenValidationErrors(
      errorsOf({
        features: 'x',
        items: [
          { name: 'a', values: [1] },
          { name: 3, values: ['n'] },
        ],
      }),
    );
    expect(problems).toEqual([
      { field: 'features', message: 'features must contain at least 1 elements' },
      { field: 'features', message: 'features must be an array' },
      { field: 'items[1].name', message: 'items[1].name must be a string' },
      {
        field: 'items[1].values',
        message: 'each value in values must be a number conforming to the specified constraints',
      },
    ]);
  });

  it('is a 422 validation-failed DomainError summarising the problems', () => {
    const error = validationProblem(errorsOf({ features: [1], items: [{ name: 1, values: [] }] }));
    expect(error).toBeInstanceOf(DomainError);
    expect({ code: error.code, status: error.status, title: error.title, detail: error.detail }).toEqual({
      code: 'validation-failed',
      status: 422,
      title: 'Invalid input',
      detail: 'items[0].name must be a string',
    });
    expect(error.errors).toEqual([{ field: 'items[0].name', message: 'items[0].name must be a string' }]);
  });

  it('names at most five problems in the detail', () => {
    const errors = Array.from({ length: 7 }, (_, index) => ({ field: `f${index}`, message: `m${index}` }));
    const error = validationProblem(
      errors.map((problem) => ({
        property: problem.field,
        constraints: { c: `${problem.field} ${problem.message}` },
        children: [],
      })),
    );
    expect(error.detail).toBe('7 problems with the input: f0 m0; f1 m1; f2 m2; f3 m3; f4 m4; and 2 more');
    expect(error.errors).toHaveLength(7);
  });
});

describe('long keys in problems', () => {
  it('quotes a key of any length cut, with its length, in the field and the message', () => {
    const key = 'k'.repeat(100_000);
    const [problem] = flattenValidationErrors([
      {
        property: key,
        constraints: { whitelistValidation: `property ${key} should not exist` },
        children: [],
      },
    ]);
    expect(problem.field.length).toBeLessThan(250);
    expect(problem.message.length).toBeLessThan(300);
    expect(problem.field).toContain('(100000 characters)');
    expect(problem.message).toBe(`property ${problem.field.slice(2, -2)} should not exist`);
  });
});
