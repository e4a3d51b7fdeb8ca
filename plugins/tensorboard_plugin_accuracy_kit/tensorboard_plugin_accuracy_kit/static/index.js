// The "Accuracy Kit" tab: the ladder of tricks, as a sortable table and a bar chart, and the
// confusion matrix and worst predictions of the run clicked. Plain DOM and SVG, no build step.
// TensorBoard loads this module in an iframe whose <base> is the plugin's route prefix, so
// relative URLs ("ladder", "run?run=...") reach the plugin's routes.
//
// The plugin's `ladder` route decides what is kept and against what each gain is measured
// (the ladder's own decision when it recorded one): this file only draws it. Colours follow
// `row.better` (the gain's direction under the monitor's `mode`), never the gain's sign.

const SVG = 'http://www.w3.org/2000/svg';

// `best_first`: sorted by this column, the best value (by `mode`) comes first on the first click.
const COLUMNS = [
  {key: 'rank', label: '#', numeric: true},
  {key: 'kept', label: 'kept'},
  {key: 'change', label: 'change'},
  {key: 'value', label: 'value', numeric: true, best_first: true},
  {key: 'gain', label: 'Δ best so far [95 % interval]', numeric: true, best_first: true},
  {key: 'rule', label: 'noise threshold'},
  {key: 'delta_baseline', label: 'Δ baseline', numeric: true, best_first: true},
  {key: 'epochs', label: 'epochs', numeric: true},
  {key: 'wall_time', label: 'wall time', numeric: true},
  {key: 'run', label: 'run'},
];

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function isAccuracy(monitor) {
  return /acc/.test(monitor || '');
}

export function formatValue(value, monitor) {
  if (value === null || value === undefined) return '–';
  return isAccuracy(monitor) ? `${(100 * value).toFixed(2)} %` : value.toFixed(4);
}

export function formatDelta(value, monitor) {
  if (value === null || value === undefined) return '–';
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  const size = Math.abs(value);
  return isAccuracy(monitor) ? `${sign}${(100 * size).toFixed(2)} pp` : `${sign}${size.toFixed(4)}`;
}

// The interval as the CLI table prints it, in the units of `formatDelta`: "[−0.2, +3.0]" pp.
export function formatInterval(low, high, monitor) {
  if (low === null || low === undefined || high === null || high === undefined) return '';
  const one = (value) => {
    const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
    const size = Math.abs(value);
    return isAccuracy(monitor) ? `${sign}${(100 * size).toFixed(1)}` : `${sign}${size.toFixed(3)}`;
  };
  return `[${one(low)}, ${one(high)}]`;
}

export function keptMark(kept) {
  return kept === true ? '✓ kept' : kept === false ? '✗ rejected' : '… pending';
}

function keptClass(kept) {
  return kept === true ? 'kept' : kept === false ? 'rejected' : 'pending';
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

// `better`: true (the right way for `mode`), false (the wrong way), null (no gain).
function betterClass(better) {
  return better === true ? 'gain' : better === false ? 'loss' : 'neutral';
}

// The gain's colour: by `better`, except a gain the right way that was not kept (below the
// noise threshold), which is grey: green is for what paid off.
function gainClass(row) {
  return row.kept === false && row.better === true ? 'below-noise' : betterClass(row.better);
}

// A gain measured by the tab (`decided_by: "tab"`) has no interval or threshold of its own.
function ruleText(row) {
  return row.rule || '–';
}

function cell(row, column) {
  const value = row[column.key];
  const monitor = row.monitor;
  if (column.key === 'kept') return keptMark(value);
  if (column.key === 'value') return formatValue(value, monitor);
  if (column.key === 'gain') {
    const interval = formatInterval(row.low, row.high, monitor);
    return formatDelta(value, monitor) + (interval ? ` ${interval}` : '');
  }
  if (column.key === 'rule') return ruleText(row);
  if (column.key.startsWith('delta')) return formatDelta(value, monitor);
  if (column.key === 'wall_time') return formatSeconds(value);
  return value === null || value === undefined ? '–' : String(value);
}

// The full config diff, folded: one line per recorded change, opened on request.
function configDiff(changes) {
  if (!changes || !changes.length) return '';
  const details = el('details', {class: 'config-diff'},
      el('summary', {}, `config diff (${changes.length} line${changes.length > 1 ? 's' : ''})`),
      el('ul', {class: 'changes'}, ...changes.map((line) => el('li', {}, line))));
  // Opening it is not a click on the row (which would redraw the table, folding it again).
  details.addEventListener('click', (event) => event.stopPropagation());
  return details;
}

// Ascending in the column's natural order; `mode` only decides the first click's direction.
function sortRows(rows, key, ascending) {
  const rank = (value) => (value === true ? 2 : value === false ? 1 : value);
  const sorted = [...rows].sort((a, b) => {
    const x = rank(a[key]);
    const y = rank(b[key]);
    if (x === y) return a.rank - b.rank;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * (ascending ? 1 : -1);
  });
  return sorted;
}

// The direction that puts the best first: for `mode: "min"` (a loss) the lowest value.
export function bestFirstAscending(column, mode) {
  if (column.best_first) return mode === 'min';
  return column.key === 'kept' ? false : true;
}

function renderTable(state) {
  const table = el('table', {id: 'ladder-table', class: 'ladder'});
  const header = el('tr');
  for (const column of COLUMNS) {
    const arrow = state.sortKey === column.key ? (state.ascending ? ' ▲' : ' ▼') : '';
    const th = el('th', {'data-key': column.key, class: column.numeric ? 'numeric' : ''},
                  column.label + arrow);
    th.addEventListener('click', () => {
      state.ascending = state.sortKey === column.key
        ? !state.ascending : bestFirstAscending(column, state.mode);
      state.sortKey = column.key;
      rerender(state);
    });
    header.append(th);
  }
  table.append(el('thead', {}, header));
  const body = el('tbody');
  for (const row of sortRows(state.rows, state.sortKey, state.ascending)) {
    const tr = el('tr', {
      class: `ladder-row ${keptClass(row.kept)}` + (row.run === state.selected ? ' selected' : ''),
      'data-run': row.run,
      'data-rank': row.rank,
      'data-kept': row.kept === null || row.kept === undefined ? 'pending' : String(row.kept),
      'data-mode': row.mode,
      'data-change': row.change,
      'data-value': row.value,
      'data-best': row.best,
      'data-gain': row.gain,
      'data-low': row.low,
      'data-high': row.high,
      'data-delta-baseline': row.delta_baseline,
    });
    for (const column of COLUMNS) {
      const classes = [column.numeric ? 'numeric' : '', `col-${column.key}`];
      if (column.key === 'gain') classes.push(gainClass(row));
      if (column.key === 'delta_baseline' && row.delta_baseline !== null) {
        const sign = row.mode === 'min' ? -row.delta_baseline : row.delta_baseline;
        classes.push(gainClass({kept: row.kept, better: sign === 0 ? null : sign > 0}));
      }
      if (column.key === 'kept') classes.push(keptClass(row.kept));
      const td = el('td', {class: classes.join(' ')},
                    column.key === 'change' ? el('span', {class: 'change-line'}, row.change)
                                            : cell(row, column));
      if (column.key === 'change') td.append(configDiff(row.changes));
      if (column.key === 'rule' && row.note) td.title = row.note;
      tr.append(td);
    }
    tr.addEventListener('click', () => select(state, row.run));
    body.append(tr);
  }
  table.append(body);
  return table;
}

function renderChart(state) {
  const rows = state.rows;
  const width = Math.max(360, 110 * rows.length + 60);
  const height = 230;
  const top = 40;
  const bottom = 46;
  const chart = svg('svg', {id: 'ladder-chart', width, height, viewBox: `0 0 ${width} ${height}`});
  const values = rows.map((row) => row.value).filter((v) => v !== null && v !== undefined);
  const maximum = isAccuracy(rows[0] && rows[0].monitor) ? 1 : Math.max(...values, 1e-9);
  const scale = (value) => ((height - top - bottom) * value) / maximum;
  chart.append(svg('line', {x1: 40, x2: width - 10, y1: height - bottom, y2: height - bottom,
                            class: 'axis'}));
  rows.forEach((row, i) => {
    const x = 50 + i * 110;
    const barHeight = row.value === null || row.value === undefined ? 0 : scale(row.value);
    const y = height - bottom - barHeight;
    const group = svg('g', {class: `bar ${keptClass(row.kept)} ${betterClass(row.better)}`,
                            'data-run': row.run, 'data-kept': String(row.kept)});
    group.append(svg('rect', {x, y, width: 80, height: barHeight}));
    group.append(svg('text', {x: x + 40, y: y - 28, class: 'mark'},
                     row.kept === true ? '✓' : row.kept === false ? '✗' : '…'));
    group.append(svg('text', {x: x + 40, y: y - 16, class: 'value'},
                     formatValue(row.value, row.monitor)));
    group.append(svg('text', {x: x + 40, y: y - 4, class: `delta ${gainClass(row)}`},
                     i === 0 && row.gain === null ? 'baseline' : formatDelta(row.gain, row.monitor)));
    const label = row.change.length > 16 ? row.change.slice(0, 15) + '…' : row.change;
    group.append(svg('text', {x: x + 40, y: height - bottom + 16, class: 'label'}, label));
    group.append(svg('text', {x: x + 40, y: height - bottom + 30, class: 'label rank'},
                     `#${row.rank}`));
    group.append(svg('title', {}, `${row.run}: ${row.change} (${keptMark(row.kept)})`));
    group.addEventListener('click', () => select(state, row.run));
    chart.append(group);
  });
  return chart;
}

function renderConfusion(detail) {
  const names = detail.class_names || [];
  const matrix = detail.confusion_matrix || [];
  const table = el('table', {class: 'confusion', id: 'confusion-matrix'});
  const header = el('tr', {}, el('th', {}, 'true \\ predicted'));
  names.forEach((name) => header.append(el('th', {}, name)));
  header.append(el('th', {}, 'accuracy'));
  table.append(header);
  matrix.forEach((counts, i) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    const tr = el('tr', {}, el('th', {}, names[i]));
    counts.forEach((count, j) => {
      const share = count / total;
      const td = el('td', {class: i === j ? 'diagonal' : ''}, count);
      td.style.background = `rgba(${i === j ? '38, 120, 60' : '200, 50, 40'}, ${share.toFixed(3)})`;
      if (share > 0.6) td.style.color = 'white';
      tr.append(td);
    });
    const accuracy = (detail.per_class_accuracy || [])[i];
    tr.append(el('td', {class: 'numeric'},
                  accuracy === null || accuracy === undefined ? '–' : `${(100 * accuracy).toFixed(1)} %`));
    table.append(tr);
  });
  return table;
}

// True class, predicted class with its probability, and the true class's probability.
// Red marks an error only: a correct prediction made with low confidence is not one.
export function worstCaption(item, names) {
  const name = (index) => names[index] ?? String(index);
  const percent = (p) => (p === null || p === undefined ? '–' : `${Math.round(100 * p)} %`);
  const correct = item.true === item.predicted;
  return el('figcaption', {class: correct ? 'right' : 'wrong'},
            el('span', {class: 'true'}, `true: ${name(item.true)}`),
            el('span', {class: 'predicted'},
               `${correct ? '✓' : '✗'} pred: ${name(item.predicted)} ${percent(item.predicted_probability)}`),
            el('span', {class: 'probability'}, `p(true): ${percent(item.true_probability)}`));
}

function renderWorst(detail) {
  const names = detail.class_names || [];
  const grid = el('div', {class: 'worst', id: 'worst-predictions'});
  (detail.worst || []).forEach((item, index) => {
    const figure = el('figure', {class: 'worst-item'});
    if (index < detail.num_images) {
      const query = `run=${encodeURIComponent(detail.run)}&index=${index}`;
      figure.append(el('img', {src: `worst_image?${query}`, alt: `worst prediction ${index}`}));
    }
    figure.append(worstCaption(item, names));
    grid.append(figure);
  });
  return grid;
}

async function select(state, run) {
  state.selected = run;
  rerender(state);
  const target = document.getElementById('detail');
  target.replaceChildren(el('p', {class: 'hint'}, `Loading ${run}…`));
  try {
    const detail = await getJson(`run?run=${encodeURIComponent(run)}`);
    if (state.selected !== run) return;
    const changes = (detail.changes || []).length
      ? configDiff(detail.changes)
      : el('p', {class: 'hint'}, 'No CheckpointOnChange version recorded for this run.');
    const row = state.rows.find((candidate) => candidate.run === run) || {};
    const interval = formatInterval(row.low, row.high, detail.monitor);
    target.replaceChildren(
      el('h2', {id: 'detail-title'}, `${detail.change} `, el('small', {}, `(${run})`)),
      el('p', {class: `decision ${keptClass(row.kept)}`},
         `${keptMark(row.kept)}: ${formatValue(row.value, detail.monitor)}, ` +
         `${formatDelta(row.gain, detail.monitor)}${interval ? ' ' + interval : ''} ` +
         `versus the best so far; ${ruleText(row)}${row.note ? ` (${row.note})` : ''}`),
      el('p', {}, `best ${detail.monitor} during training: ` +
                  `${formatValue(detail.best, detail.monitor)} ` +
                  `at epoch ${detail.best_epoch ?? '–'} of ${detail.epochs}`),
      el('h3', {}, 'Changes versus the parent version'), changes,
      el('div', {class: 'detail-grid'},
         el('section', {}, el('h3', {}, 'Confusion matrix'), renderConfusion(detail)),
         el('section', {}, el('h3', {}, 'Worst predictions'), renderWorst(detail))));
  } catch (error) {
    target.replaceChildren(el('p', {class: 'error'}, `Could not load ${run}: ${error.message}`));
  }
}

// Runs whose summary could not be read: named with the reason, the others still shown.
function renderBadRuns(badRuns) {
  if (!badRuns || !badRuns.length) return '';
  return el('div', {id: 'bad-runs', class: 'error'},
            el('p', {}, `${badRuns.length} run(s) left out: their summary cannot be read.`),
            el('ul', {}, ...badRuns.map((bad) => el('li', {}, `${bad.run}: ${bad.error}`))));
}

function rerender(state) {
  const monitor = state.rows.length ? state.rows[0].monitor : '';
  const direction = state.mode === 'min' ? 'lower is better' : 'higher is better';
  const judged = state.rows.some((row) => row.decided_by === 'writer')
    ? 'kept as the ladder decided (a gain beyond noise)'
    : 'kept when better than the best kept run before it';
  document.getElementById('ladder').replaceChildren(
    el('p', {class: 'hint', id: 'ladder-hint'},
       `${state.rows.length} runs in ladder order; ${monitor} (${direction}); ${judged}; ` +
       'Δ versus the best so far and the first (baseline). Click a column to sort, a row or ' +
       'bar for details.'),
    renderChart(state), renderTable(state), renderBadRuns(state.badRuns));
}

export async function render() {
  const stylesheet = el('link', {rel: 'stylesheet', href: 'static/style.css'});
  document.head.append(stylesheet);
  const root = el('main', {id: 'accuracy-kit'},
                  el('h1', {}, 'Accuracy Kit — which trick paid off'),
                  el('div', {id: 'ladder'}, el('p', {class: 'hint'}, 'Loading…')),
                  el('div', {id: 'detail'}));
  document.body.append(root);
  let ladder;
  try {
    ladder = await getJson('ladder');
  } catch (error) {
    document.getElementById('ladder').replaceChildren(
      el('p', {class: 'error'}, `Could not load the ladder: ${error.message}`));
    return;
  }
  // The entry page's query may pick the initial sort: `&sort=value` (best first by `mode`),
  // `&direction=asc|desc` to force one.
  const query = new URLSearchParams(window.location.search);
  const requested = query.get('sort') === 'best' ? 'value' : query.get('sort');
  const column = COLUMNS.find((c) => c.key === requested) || COLUMNS[0];
  const mode = ladder.mode || 'max';
  const direction = query.get('direction');
  const ascending = direction === 'asc' ? true : direction === 'desc' ? false
    : bestFirstAscending(column, mode);
  const state = {rows: ladder.runs, sortKey: column.key, ascending, mode,
                 selected: null, badRuns: ladder.bad_runs || []};
  if (!state.rows.length) {
    document.getElementById('ladder').replaceChildren(el('p', {class: 'hint'},
        'No run has an Accuracy Kit summary yet: train with kit.callbacks.AccuracyReport.'),
        renderBadRuns(state.badRuns));
    return;
  }
  rerender(state);
  await select(state, ladder.best_run || state.rows[0].run);
}
