import { CanActivate, Provider, Type, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ProblemDetailsFilter, validationProblem } from '@app/observability';
import { JsonBodyGuard } from './json-body';

/**
 * The global filter, guards and pipe of every HTTP app here: the service and the specs' test apps register this
 * one list, so no spec runs with other settings than production.
 * @param firstGuards guards that run before the body is read (the API key, checked from the headers alone)
 */
export function httpEdgeGlobals(firstGuards: Array<Type<CanActivate>> = []): Provider[] {
  return [
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    ...firstGuards.map((guard) => ({ provide: APP_GUARD, useClass: guard })),
    { provide: APP_GUARD, useClass: JsonBodyGuard },
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        // No implicit conversion: "1.5", null or true where a number belongs is an error, not a guess.
        transformOptions: { enableImplicitConversion: false },
        exceptionFactory: validationProblem,
      }),
    },
  ];
}
