/** RETENTION_DAYS: unset keeps documents for ever; a present value must be a whole number of days, at least one, and is named when wrong. */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.ts';
import { GatewayError } from '../../src/errors.ts';

const refusal = (value: string) => {
  try {
    loadSettings({ RETENTION_DAYS: value });
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error(`RETENTION_DAYS=${value} was accepted`);
};

describe('RETENTION_DAYS', () => {
  it('unset keeps for ever; a number of days is read as one', () => {
    expect(loadSettings({}).RETENTION_DAYS).toBeUndefined();
    expect(loadSettings({ RETENTION_DAYS: '' }).RETENTION_DAYS).toBeUndefined();
    expect(loadSettings({ RETENTION_DAYS: '365' }).RETENTION_DAYS).toBe(365);
  });

  it.each(['0', '-3', '1.5', 'thirty', '100000'])('refuses %s, naming the setting', (value) => {
    const error = refusal(value);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('settings-invalid');
    expect(error.message).toMatch(/RETENTION_DAYS: /);
  });
});
