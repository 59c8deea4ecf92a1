import { odataError } from './errors.ts';

/**
 * OData system query options: a tokenizer and recursive-descent parser for `$filter` (never eval),
 * plus the small grammars of `$select`, `$orderby` and `$expand`. Output is an AST; query.ts evaluates it.
 */

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number; raw: string }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' }
  | { type: 'guid'; value: string }
  | { type: 'datetime'; value: string; dateOnly: boolean }
  | { type: 'list'; items: Literal[] };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { type: 'func'; name: 'contains' | 'startswith' | 'endswith'; property: string; value: Literal }
  /** `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[…])` and friends. */
  | { type: 'crmfunc'; name: string; property: string; values: Literal[] }
  | { type: 'bool'; property: string };

export type Operand = { type: 'property'; name: string } | { type: 'literal'; value: Literal };

type Token =
  | { kind: 'lparen' | 'rparen' | 'comma' | 'lbracket' | 'rbracket' | 'equals' | 'eof'; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'literal'; value: Literal; pos: number };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_.\/]*/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const single: Record<string, Token['kind']> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '[': 'lbracket', ']': 'rbracket', '=': 'equals' };
    if (single[c]) { tokens.push({ kind: single[c], pos: i } as Token); i++; continue; }
    if (c === "'") {
      // OData doubles a quote inside a string literal: 'O''Neil'.
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw syntax(`Unterminated string literal at position ${i} in '${text}'.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") { value += "'"; j += 2; continue; }
          break;
        }
        value += text[j++];
      }
      tokens.push({ kind: 'literal', value: { type: 'string', value }, pos: i });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i);
    let m = GUID.exec(rest);
    if (m && !/[0-9A-Za-z_-]/.test(rest[m[0].length] ?? '')) {
      tokens.push({ kind: 'literal', value: { type: 'guid', value: m[0].toLowerCase() }, pos: i });
      i += m[0].length;
      continue;
    }
    m = DATETIME.exec(rest);
    if (m && m[0].length >= 10 && !/[0-9A-Za-z_]/.test(rest[m[0].length] ?? '')) {
      tokens.push({ kind: 'literal', value: { type: 'datetime', value: m[0], dateOnly: !m[1] }, pos: i });
      i += m[0].length;
      continue;
    }
    m = NUMBER.exec(rest);
    if (m) {
      const raw = m[0].replace(/[mMdDfFlL]$/, '');
      tokens.push({ kind: 'literal', value: { type: 'number', value: Number(raw), raw }, pos: i });
      i += m[0].length;
      continue;
    }
    m = WORD.exec(rest);
    if (m) {
      const word = m[0];
      if (text[i + word.length] === "'") {
        // Enum literal: Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist' compares as its member name.
        i += word.length;
        continue;
      }
      if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', value: { type: 'boolean', value: word === 'true' }, pos: i });
      else if (word === 'null') tokens.push({ kind: 'literal', value: { type: 'null' }, pos: i });
      else tokens.push({ kind: 'word', text: word, pos: i });
      i += word.length;
      continue;
    }
    throw syntax(`Syntax error: character '${c}' is not valid at position ${i} in '${text}'.`);
  }
  tokens.push({ kind: 'eof', pos: text.length });
  return tokens;
}

const syntax = (message: string) => odataError(message);
const COMPARE = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly text: string) {}

  private peek(): Token { return this.tokens[this.i]; }
  private next(): Token { return this.tokens[this.i++]; }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text === text;
  }
  private expect(kind: Token['kind']): Token {
    const t = this.next();
    if (t.kind !== kind) throw syntax(`Syntax error at position ${t.pos} in '${this.text}'.`);
    return t;
  }

  parse(): FilterNode {
    const node = this.or();
    if (this.peek().kind !== 'eof') throw syntax(`Syntax error at position ${this.peek().pos} in '${this.text}'.`);
    return node;
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.isWord('or')) { this.next(); left = { type: 'or', left, right: this.and() }; }
    return left;
  }

  private and(): FilterNode {
    let left = this.unary();
    while (this.isWord('and')) { this.next(); left = { type: 'and', left, right: this.unary() }; }
    return left;
  }

  private unary(): FilterNode {
    if (this.isWord('not')) { this.next(); return { type: 'not', operand: this.unary() }; }
    return this.comparison();
  }

  private comparison(): FilterNode {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      const inner = this.or();
      this.expect('rparen');
      return inner;
    }
    if (t.kind === 'word' && this.tokens[this.i + 1]?.kind === 'lparen') return this.call();
    const left = this.operand();
    const op = this.peek();
    if (op.kind === 'word' && COMPARE.has(op.text)) {
      this.next();
      return { type: 'compare', op: op.text as CompareOp, left, right: this.operand() };
    }
    if (left.type === 'property') return { type: 'bool', property: left.name };
    throw syntax(`Syntax error at position ${op.pos} in '${this.text}'.`);
  }

  private operand(): Operand {
    const t = this.next();
    if (t.kind === 'literal') return { type: 'literal', value: t.value };
    if (t.kind === 'word') {
      if (t.text.includes('/')) throw odataError(`Navigation paths in $filter are not supported by this sandbox ('${t.text}').`);
      return { type: 'property', name: t.text };
    }
    throw syntax(`Syntax error at position ${t.pos} in '${this.text}'.`);
  }

  private call(): FilterNode {
    const name = (this.next() as { text: string }).text;
    this.expect('lparen');
    if (name === 'contains' || name === 'startswith' || name === 'endswith') {
      const prop = this.next();
      if (prop.kind !== 'word') throw syntax(`The first argument of ${name} must be a property in '${this.text}'.`);
      this.expect('comma');
      const lit = this.next();
      if (lit.kind !== 'literal' || lit.value.type !== 'string') {
        throw odataError(`The second argument of ${name} must be a string literal in '${this.text}'.`);
      }
      this.expect('rparen');
      return { type: 'func', name, property: prop.text, value: lit.value };
    }
    if (name.startsWith('Microsoft.Dynamics.CRM.')) {
      // Named parameters: PropertyName='x', PropertyValue='v' | PropertyValues=['a','b']
      const args: Record<string, Literal> = {};
      while (this.peek().kind !== 'rparen') {
        const key = this.next();
        if (key.kind !== 'word') throw syntax(`Syntax error at position ${key.pos} in '${this.text}'.`);
        this.expect('equals');
        args[key.text] = this.argValue();
        if (this.peek().kind === 'comma') this.next();
      }
      this.expect('rparen');
      const propertyName = args.PropertyName;
      if (!propertyName || propertyName.type !== 'string') throw odataError(`${name} requires PropertyName.`);
      const values = args.PropertyValues?.type === 'list' ? args.PropertyValues.items : args.PropertyValue ? [args.PropertyValue] : [];
      return { type: 'crmfunc', name: name.slice('Microsoft.Dynamics.CRM.'.length), property: propertyName.value, values };
    }
    throw odataError(`An unknown function with name '${name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.`);
  }

  private argValue(): Literal {
    const t = this.next();
    if (t.kind === 'literal') return t.value;
    if (t.kind === 'lbracket') {
      const items: Literal[] = [];
      while (this.peek().kind !== 'rbracket') {
        const item = this.next();
        if (item.kind !== 'literal') throw syntax(`Syntax error at position ${item.pos} in '${this.text}'.`);
        items.push(item.value);
        if (this.peek().kind === 'comma') this.next();
      }
      this.next();
      return { type: 'list', items };
    }
    throw syntax(`Syntax error at position ${t.pos} in '${this.text}'.`);
  }
}

export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text), text).parse();
}

/** Splits on a separator at parenthesis depth 0 (for $select/$expand lists and nested options). */
export function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") inString = !inString;
    if (inString) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export interface OrderBy { property: string; desc: boolean }

export function parseOrderBy(text: string): OrderBy[] {
  return splitTopLevel(text, ',').map((part) => {
    const [property, dir, extra] = part.split(/\s+/);
    if (extra || (dir && dir !== 'asc' && dir !== 'desc')) throw odataError(`Syntax error in $orderby '${text}'.`);
    return { property, desc: dir === 'desc' };
  });
}

export interface ExpandItem { navigation: string; options: Record<string, string> }

export function parseExpand(text: string): ExpandItem[] {
  return splitTopLevel(text, ',').map((part) => {
    const open = part.indexOf('(');
    if (open < 0) return { navigation: part, options: {} };
    if (!part.endsWith(')')) throw odataError(`Syntax error in $expand '${text}'.`);
    const options: Record<string, string> = {};
    for (const opt of splitTopLevel(part.slice(open + 1, -1), ';')) {
      const eq = opt.indexOf('=');
      if (eq < 0) throw odataError(`Syntax error in $expand '${text}'.`);
      options[opt.slice(0, eq).trim()] = opt.slice(eq + 1).trim();
    }
    return { navigation: part.slice(0, open).trim(), options };
  });
}

/** Decodes a query string without turning '+' into spaces (OData clients percent-encode). */
export function parseQueryString(search: string): Map<string, string> {
  const params = new Map<string, string>();
  const q = search.startsWith('?') ? search.slice(1) : search;
  if (!q) return params;
  for (const pair of q.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      params.set(decodeURIComponent(rawKey), decodeURIComponent(rawValue));
    } catch {
      throw odataError(`The query string '${search}' is not correctly percent-encoded.`);
    }
  }
  return params;
}
