import { describe, expect, it } from 'vitest';
import { checkMethodCall, parsePayload, statusColour, type MethodForm } from './method-call.ts';

const form = (
  changes: Partial<MethodForm & { payload: string }> = {},
): MethodForm & { payload: string } => ({
  methodName: 'reboot',
  payload: '{"delay": 5}',
  responseTimeout: '30',
  connectTimeout: '0',
  ...changes,
});
const check = (f: MethodForm & { payload: string }) => checkMethodCall(f, parsePayload(f.payload));

describe('a direct method call as typed', () => {
  it('when everything is right, then it is the request, an empty payload sending null', () => {
    expect(check(form())).toEqual({
      request: {
        methodName: 'reboot',
        payload: { delay: 5 },
        responseTimeoutInSeconds: 30,
        connectTimeoutInSeconds: 0,
      },
    });
    expect(check(form({ payload: '  \n' })).request?.payload).toBeNull();
  });

  it('when no name is typed yet, then nothing is wrong but nothing is sent', () => {
    expect(check(form({ methodName: '' }))).toEqual({});
  });

  it('when something is wrong, then the first problem is said, name first', () => {
    expect(check(form({ methodName: 'a b', payload: '{' })).problem).toMatch(
      /^Method names are printable ASCII/,
    );
    expect(check(form({ payload: '{' })).problem).toMatch(/^The payload is not valid JSON/);
    expect(check(form({ responseTimeout: '4' })).problem).toBe(
      'The response timeout is 5 to 300 seconds.',
    );
    expect(check(form({ connectTimeout: '301' })).problem).toBe(
      'The connect timeout is 0 to 300 seconds.',
    );
  });

  it('when the device answers, then 2xx is success and anything else danger', () => {
    expect(statusColour(200)).toBe('success');
    expect(statusColour(299)).toBe('success');
    expect(statusColour(404)).toBe('danger');
    expect(statusColour(undefined)).toBe('danger');
  });
});
