// A small SVG line plot (no plotting dependency): no-op time against host count,
// one line per series, linear axes, points marked, a legend. Used by bench/scale.ts.

export interface Series {
  name: string;
  color: string;
  /** [hosts, seconds], any order. */
  points: [number, number][];
}

const W = 640;
const H = 400;
const M = { left: 60, right: 150, top: 30, bottom: 50 };

/** A "nice" step for about `n` ticks over [0, max]. */
function step(max: number, n = 5): number {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function plotSvg(title: string, series: readonly Series[], xLabel: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const sx = step(Math.max(1, ...all.map((p) => p[0])));
  const sy = step(Math.max(0.1, ...all.map((p) => p[1])));
  const xMax = Math.ceil(Math.max(1, ...all.map((p) => p[0])) / sx) * sx;
  const yMax = Math.ceil(Math.max(0.1, ...all.map((p) => p[1])) / sy) * sy;
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let x = 0; x <= xMax + 1e-9; x += sx)
    out.push(
      `<line x1="${px(x)}" y1="${py(0)}" x2="${px(x)}" y2="${py(yMax)}" stroke="#eee"/>`,
      `<text x="${px(x)}" y="${py(0) + 16}" text-anchor="middle">${+x.toFixed(2)}</text>`,
    );
  for (let y = 0; y <= yMax + 1e-9; y += sy)
    out.push(
      `<line x1="${px(0)}" y1="${py(y)}" x2="${px(xMax)}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${px(0) - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(2)}</text>`,
    );
  out.push(
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(xMax)}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(0)}" y2="${py(yMax)}" stroke="black"/>`,
    `<text x="${(px(0) + px(xMax)) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${(py(0) + py(yMax)) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")}"/>`,
      );
    for (const [x, y] of pts)
      out.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.name}: ${x} hosts, ${y.toFixed(2)} s`)}</title></circle>`,
      );
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${W - M.right + 15}" y1="${ly}" x2="${W - M.right + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
