/** Class colours: Tableau 10 (distinct, colour-blind-aware), then golden-angle hues beyond ten classes. */
const TABLEAU_10 = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function classColour(index: number): string {
  if (index < 0) return '#888888';
  return TABLEAU_10[index] ?? `hsl(${(index * 137.508) % 360} 55% 55%)`;
}
