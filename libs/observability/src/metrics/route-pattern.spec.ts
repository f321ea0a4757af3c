import express, { Request } from 'express';
import { routePatternOf, UNMATCHED_ROUTE } from './route-pattern';

describe('routePatternOf', () => {
  const app = express();
  app.post('/v1/models/:name\\:predict', (_req, res) => res.end());
  const requestFor = (method: string, url: string) =>
    ({ app, method, url, originalUrl: url, baseUrl: '' }) as unknown as Request;

  it('names the route a request would have taken', () => {
    expect(routePatternOf(requestFor('POST', '/v1/models/seed_gbc:predict'))).toBe(
      '/v1/models/:name:predict',
    );
    expect(routePatternOf(requestFor('GET', '/v1/models/seed_gbc:predict'))).toBe(UNMATCHED_ROUTE);
  });

  it('counts a path whose parameter the router cannot decode as unmatched instead of throwing', () => {
    // Express 5's router decodes parameters while it matches, and throws a URIError for `%zz`.
    expect(routePatternOf(requestFor('POST', '/v1/models/%zz:predict'))).toBe(UNMATCHED_ROUTE);
  });
});
