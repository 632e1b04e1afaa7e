import { describe, expect, it } from 'vitest';
import { InvalidNameError } from '@chorus/core';
import { parseZoneName } from '@chorus/dns';

describe('parseZoneName', () => {
  it.each([
    ['example.test', 'example.test.'],
    [' Example.Test. ', 'Example.Test.'],
    ['_tcp.xn--bcher-kva.test.', '_tcp.xn--bcher-kva.test.'],
    ['.', '.'],
  ])('accepts %j as %j', (input, expected) => {
    expect(parseZoneName(input)).toBe(expected);
  });

  it.each([
    'example.test. extra',
    'a;b.test.',
    'ex ample.test',
    'a\\.b.test.',
    'a..test.',
    '',
    'a/b.',
  ])('refuses %j instead of escaping it', (input) => {
    expect(() => parseZoneName(input)).toThrow(InvalidNameError);
  });

  it('names the character it refuses', () => {
    expect(() => parseZoneName('example.test. extra')).toThrow(/not " "/);
  });
});
