/**
 * Settings from the environment, parsed once with one schema: every bad variable is
 * named in one error, and the README's table is checked against this schema by a test.
 */
import { z } from 'zod';

export const settingsSchema = z.object({
  GATEWAY_ID: z
    .string()
    .regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'a party id: upper-case letters, digits and dashes')
    .default('US-CBP-DEV')
    .describe("this gateway's party id: US-CBP in production only, every other environment its own"),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Parses the settings; throws one error naming every bad variable. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settingsSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid settings:\n  ${lines.join('\n  ')}`);
}
