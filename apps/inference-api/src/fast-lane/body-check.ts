import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';

/** True when a parsed body passes every rule of a DTO, as the app's ValidationPipe would apply them. */
export type BodyCheck = (body: unknown) => body is Record<string, unknown>;

type PropertyCheck = (object: Record<string, unknown>) => boolean;

type Dto = new () => object;

/**
 * Compiles a DTO's class-validator metadata into a plain function, so the fast lane applies the very rules the
 * ValidationPipe applies (whitelist + forbidNonWhitelisted + every constraint), with no copy of them to keep in
 * step. It only answers yes or no: a body that fails goes to the ValidationPipe, which words the error.
 *
 * Nested DTOs (`@ValidateNested()` with `@Type(() => Dto)`) are checked by their own compiled rules, whitelist
 * included. The check may refuse what the pipe would accept (a nested value that is an array of arrays, which
 * class-validator walks into): such a body only takes the pipe's slower way. It never accepts what the pipe refuses.
 *
 * Rules it cannot reproduce exactly (async or conditional validators other than `@IsOptional()`, groups, nested
 * validation without `@Type`, class-transformer decorators that change values before validation) stop the app at
 * boot, naming the DTO and property, rather than letting the lane and the pipe disagree.
 */
export function compileBodyCheck(dto: Dto): BodyCheck {
  const check = compileObjectCheck(dto, new Map());
  return (body: unknown): body is Record<string, unknown> => isPlainObject(body) && check(body);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The check of one DTO's objects; `compiled` holds those begun already, so a DTO may nest itself. */
function compileObjectCheck(dto: Dto, compiled: Map<Dto, PropertyCheck>): PropertyCheck {
  const done = compiled.get(dto);
  if (done) return done;
  let ready: PropertyCheck = () => false;
  compiled.set(dto, (object) => ready(object));

  const storage = getMetadataStorage();
  const allowed = new Set<string>();
  const rules = new Map<string, { optional: boolean; checks: PropertyCheck[] }>();
  const refuse = (property: string, what: string): never => {
    throw new Error(`fast lane: cannot check ${what} on ${dto.name}.${property}`);
  };
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false);
  const nested = new Set(
    metadatas.filter((m) => m.type === ValidationTypes.NESTED_VALIDATION).map((m) => m.propertyName),
  );

  for (const metadata of metadatas) {
    const property = metadata.propertyName;
    allowed.add(property);
    const rule = rules.get(property) ?? { optional: false, checks: [] };
    rules.set(property, rule);
    const { checks } = rule;
    if (metadata.groups?.length || metadata.validateIf) refuse(property, 'groups or conditions');
    for (const type of Object.values(TransformationType).filter((t) => typeof t === 'number')) {
      if (defaultMetadataStorage.findTransformMetadatas(dto, property, type).length > 0) {
        refuse(property, '@Transform');
      }
    }
    // @Type only as the class of a nested DTO: anywhere else it converts values before validation.
    if (defaultMetadataStorage.findTypeMetadata(dto, property) && !nested.has(property))
      refuse(property, '@Type');

    if (metadata.type === ValidationTypes.IS_DEFINED) {
      checks.push((object) => object[property] !== undefined && object[property] !== null);
    } else if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION && metadata.name === 'isOptional') {
      // @IsOptional(): null or undefined skips every other rule of the property.
      rule.optional = true;
    } else if (metadata.type === ValidationTypes.NESTED_VALIDATION) {
      const type = defaultMetadataStorage.findTypeMetadata(dto, property);
      if (!type || type.options?.discriminator)
        refuse(property, 'nested validation without @Type(() => Dto)');
      const target = type.typeFunction() as Dto;
      const nestedCheck = compileObjectCheck(target, compiled);
      const element = (value: unknown) => isPlainObject(value) && nestedCheck(value);
      checks.push((object) => {
        const value = object[property];
        // class-validator skips an undefined nested value and walks arrays element by element.
        if (value === undefined) return true;
        return Array.isArray(value) ? value.every(element) : element(value);
      });
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) refuse(property, `async @${constraint.name}`);
        const validator = constraint.instance;
        const valid = (value: unknown, object: Record<string, unknown>): boolean => {
          const args: ValidationArguments = {
            value,
            constraints: metadata.constraints,
            targetName: dto.name,
            object,
            property,
          };
          return validator.validate(value, args) === true;
        };
        checks.push(
          metadata.each
            ? (object) => {
                const value = object[property];
                // class-validator checks each element of an array, set or map, and the value itself otherwise.
                const items =
                  Array.isArray(value) || value instanceof Set || value instanceof Map
                    ? [...value.values()]
                    : [value];
                return items.every((item) => valid(item, object));
              }
            : (object) => valid(object[property], object),
        );
      }
    } else {
      refuse(property, `a ${metadata.type} rule (@${metadata.name ?? metadata.type})`);
    }
  }

  const propertyChecks: PropertyCheck[] = [...rules].map(([property, { optional, checks }]) =>
    optional
      ? (object) =>
          object[property] === undefined || object[property] === null || checks.every((c) => c(object))
      : (object) => checks.every((c) => c(object)),
  );
  ready = (object) => {
    for (const key of Object.keys(object)) if (!allowed.has(key)) return false;
    for (const check of propertyChecks) if (!check(object)) return false;
    return true;
  };
  return ready;
}
