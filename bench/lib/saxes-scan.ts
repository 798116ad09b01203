/** The XML floor: saxes (strict XML 1.0 with namespaces, SAX events, no tree) reading every byte; returns the elements it saw. */
import { SaxesParser } from 'saxes';

export function saxesScan(bytes: Buffer): number {
  let elements = 0;
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', () => elements++);
  parser.write(bytes.toString('utf8')).close();
  return elements;
}
