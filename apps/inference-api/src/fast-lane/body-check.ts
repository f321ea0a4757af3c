import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';

/** True when a parsed body passes every rule of a DTO, as the app's ValidationPipe would apply them. */
export type BodyCheck = (body: unknown) => body is Record<string, unknown>;

type PropertyCheck = (object: Record<string, unknown>) => boolean;

/**
 * Compiles a DTO's class-validator metadata into a plain function, so the fast lane applies the very rules the
 * ValidationPipe applies (whitelist + forbidNonWhitelisted + every constraint), with no copy of them to keep in
 * step. It only answers yes or no: a body that fails goes to the ValidationPipe, which words the error.
 *
 * Rules it cannot reproduce exactly (async or conditional validators, groups, nested DTOs, class-transformer
 * decorators that change values before validation) stop the app at boot, naming the DTO and property, rather
 * than letting the lane and the pipe disagree.
 */
export function compileBodyCheck(dto: new () => object): BodyCheck {
  const storage = getMetadataStorage();
  const allowed = new Set<string>();
  const checks: PropertyCheck[] = [];
  const refuse = (property: string, what: string): never => {
    throw new Error(`fast lane: cannot check ${what} on ${dto.name}.${property}`);
  };

  for (const metadata of storage.getTargetValidationMetadatas(dto, '', false, false)) {
    const property = metadata.propertyName;
    allowed.add(property);
    if (metadata.groups?.length || metadata.validateIf) refuse(property, 'groups or conditions');
    for (const type of Object.values(TransformationType).filter((t) => typeof t === 'number')) {
      if (defaultMetadataStorage.findTransformMetadatas(dto, property, type).length > 0) {
        refuse(property, '@Transform');
      }
    }
    if (defaultMetadataStorage.findTypeMetadata(dto, property)) refuse(property, '@Type');

    if (metadata.type === ValidationTypes.IS_DEFINED) {
      checks.push((object) => object[property] !== undefined && object[property] !== null);
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

  return (body: unknown): body is Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
    const object = body as Record<string, unknown>;
    for (const key of Object.keys(object)) if (!allowed.has(key)) return false;
    for (const check of checks) if (!check(object)) return false;
    return true;
  };
}
