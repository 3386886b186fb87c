/** Replaces every known secret value in text with `***`. Applied to everything gen prints. */
export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: Iterable<string | null | undefined>) {
    this.secrets = [...secrets].filter((s): s is string => typeof s === 'string' && s.length > 0).sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) {
      out = out.split(s).join('***');
      const enc = encodeURIComponent(s);
      if (enc !== s) out = out.split(enc).join('***');
    }
    return out;
  }
  get empty(): boolean {
    return this.secrets.length === 0;
  }
}

/** Every URL's userinfo (`scheme://user:password@`) in a text replaced by `***@`, whatever the scheme. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s'"]*@/gi, '$1***@');
}
