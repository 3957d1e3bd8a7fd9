// Charts arrive as complete SVG documents rendered by plotters in the shell. They are inserted as
// HTML, so make them scale with their container and refuse anything executable.

const SVG_OPEN = /<svg\b[^>]*>/i;

/** Adds a viewBox (from width/height) so CSS can scale the chart, and drops scripts. */
export function responsiveSvg(svg: string): string {
  let out = svg
    .replace(/<\?xml[^>]*\?>/i, "")
    .replace(/<!DOCTYPE[^>]*>/i, "")
    .replace(/<script\b[\s\S]*?<\/script\s*>/gi, "")
    .replace(/<foreignObject\b[\s\S]*?<\/foreignObject\s*>/gi, "")
    .replace(/\son[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, "")
    .trim();

  const open = SVG_OPEN.exec(out);
  if (!open) return "";
  const tag = open[0];
  if (!/\sviewBox\s*=/.test(tag)) {
    const w = /\swidth\s*=\s*["']?([\d.]+)(?:px)?["']?/i.exec(tag);
    const h = /\sheight\s*=\s*["']?([\d.]+)(?:px)?["']?/i.exec(tag);
    if (w && h) {
      const withBox = tag.replace(/^<svg\b/i, `<svg viewBox="0 0 ${w[1]} ${h[1]}"`);
      out = out.replace(tag, withBox);
    }
  }
  return out;
}
