import type { AppConfig } from '@app/config';
import { ApiKeys } from './api-keys';

const KEYS = ['key-one-0123456789abcdef', 'key-two-0123456789abcdef'];
const ADMIN = ['admin-one-0123456789abcdef', 'admin-two-0123456789abcdef'];
const keys = (configured = KEYS, admin: string[] = []) =>
  new ApiKeys({ apiKeys: configured, get: () => admin } as unknown as AppConfig);

describe('ApiKeys', () => {
  it('accepts each configured key, as X-API-Key or as a bearer token', () => {
    for (const key of KEYS) {
      expect(keys().check({ 'x-api-key': key })).toBe('valid');
      expect(keys().check({ authorization: `Bearer ${key}` })).toBe('valid');
      expect(keys().check({ authorization: `bearer  ${key}` })).toBe('valid');
    }
  });

  it.each([
    ['characters appended', `${KEYS[0]}x`],
    ['a character appended to the second key', `${KEYS[1]}0`],
    ['the last character cut', KEYS[0].slice(0, -1)],
    ['the first character cut', KEYS[0].slice(1)],
    ['two keys run together', `${KEYS[0]}${KEYS[1]}`],
    ['another case', KEYS[0].toUpperCase()],
  ])('refuses a key with %s, as a header and as a bearer token', (_, presented) => {
    expect(keys().check({ 'x-api-key': presented })).toBe('invalid');
    expect(keys().check({ authorization: `Bearer ${presented}` })).toBe('invalid');
  });

  it('takes a bearer token only as the whole Authorization value, spaces around it aside', () => {
    expect(keys().check({ authorization: `Bearer ${KEYS[0]}  ` })).toBe('valid');
    expect(keys().check({ authorization: `Bearer ${KEYS[0]} ${KEYS[1]}` })).toBe('missing');
    expect(keys().check({ authorization: `XBearer ${KEYS[0]}` })).toBe('missing');
    expect(keys().check({ authorization: `Token Bearer ${KEYS[0]}` })).toBe('missing');
  });

  it('tells a missing key from a wrong one, and needs none when none is configured', () => {
    expect(keys().check({})).toBe('missing');
    expect(keys().check({ authorization: `Basic ${KEYS[0]}` })).toBe('missing');
    expect(keys().check({ 'x-api-key': '' })).toBe('missing');
    expect(keys([]).check({})).toBe('not-required');
    expect(keys([]).required).toBe(false);
  });
});

describe('ApiKeys for the repository API', () => {
  it('takes only the admin keys, and tells a prediction key from an unknown one', () => {
    const both = keys(KEYS, ADMIN);
    for (const key of ADMIN) {
      expect(both.checkAdmin({ 'x-api-key': key })).toBe('valid');
      expect(both.checkAdmin({ authorization: `Bearer ${key}` })).toBe('valid');
    }
    expect(both.checkAdmin({ 'x-api-key': KEYS[0] })).toBe('prediction-key');
    expect(both.checkAdmin({ 'x-api-key': `${ADMIN[0]}x` })).toBe('invalid');
    expect(both.checkAdmin({})).toBe('missing');
    // And an admin key is no prediction key.
    expect(both.check({ 'x-api-key': ADMIN[0] })).toBe('invalid');
  });

  it('is off without admin keys, even when prediction needs no key', () => {
    expect(keys(KEYS, []).checkAdmin({ 'x-api-key': KEYS[0] })).toBe('disabled');
    expect(keys([], []).checkAdmin({})).toBe('disabled');
    expect(keys([], ADMIN).checkAdmin({ 'x-api-key': ADMIN[1] })).toBe('valid');
    expect(keys([], ADMIN).checkAdmin({ 'x-api-key': KEYS[1] })).toBe('invalid');
  });
});
