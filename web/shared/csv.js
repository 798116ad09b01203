/**
 * CSV for the staff's spreadsheets (RFC 4180): every field quoted when it holds a quote,
 * a comma or a line break, lines ended by CRLF. A field that a spreadsheet would take for
 * a formula (starting with an equals, plus, minus or at sign, a tab or a carriage return)
 * gets a leading apostrophe,
 * so a partner's record can never run a formula on an officer's machine (CSV injection).
 */

/** Characters that make a spreadsheet read a cell as a formula. */
const formulaStart = /^[=+\-@\t\r]/;

/**
 * One field, defused and quoted as needed.
 * @param {unknown} value null and undefined are empty; objects are written as JSON
 * @returns {string}
 */
export function csvField(value) {
  let text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (formulaStart.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A whole table: a header line, then one line per row, CRLF after each.
 * @param {readonly string[]} header
 * @param {readonly (readonly unknown[])[]} rows
 * @returns {string}
 */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

/**
 * Offers `text` as a download named `filename` (browser only).
 * @param {string} filename
 * @param {string} text
 */
export function downloadCsv(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
