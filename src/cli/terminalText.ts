/**
 * Text for the terminal from strings a model controls (layer, node and class names, file names): a
 * name holding escape sequences could clear the screen, retitle the window or forge lines of a table,
 * so control characters and whole escape sequences are stripped before anything is printed.
 */
/* eslint-disable no-control-regex -- matching control characters is this module's job */

/** OSC, DCS, SOS, PM and APC strings: up to their terminator, or the end of the line when it is missing. */
const STRING_SEQUENCE = /(?:\x1b[P\]X^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?/g;
/** CSI sequences ("ESC [ 2 J"), 7-bit and 8-bit. */
const CONTROL_SEQUENCE = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?/g;
/** The other escapes: ESC, intermediate bytes, a final byte ("ESC c", "ESC ( B"). */
const ESCAPE = /\x1b[ -/]*[0-~]?/g;
/** C0 except newline and tab, DEL and C1. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` without escape sequences or control characters; newlines and tabs are kept. */
export function terminalText(text: string): string {
  return text.replace(STRING_SEQUENCE, '').replace(CONTROL_SEQUENCE, '').replace(ESCAPE, '').replace(CONTROL, '');
}

/** One name for a line or a table cell: as `terminalText`, with newlines and tabs as spaces too. */
export function oneLine(text: string): string {
  return terminalText(text).replace(/[\n\t]/g, ' ');
}

/**
 * JSON for stdout or a file: JSON.stringify escapes C0 itself; DEL and C1 are escaped here too, so the
 * data stays exact and no raw control character reaches a terminal.
 */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
