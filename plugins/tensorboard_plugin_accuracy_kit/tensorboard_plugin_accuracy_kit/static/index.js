// The "Accuracy Kit" tab: the ladder of tricks, as a sortable table and a bar chart, and the
// confusion matrix and worst predictions of the run clicked. Plain DOM and SVG, no build step.
// TensorBoard loads this module in an iframe whose <base> is the plugin's route prefix, so
// relative URLs ("ladder", "run?run=...") reach the plugin's routes.

const SVG = 'http://www.w3.org/2000/svg';

const COLUMNS = [
  {key: 'rank', label: '#', numeric: true},
  {key: 'change', label: 'change'},
  {key: 'best', label: 'best', numeric: true},
  {key: 'delta_previous', label: 'Δ previous', numeric: true},
  {key: 'delta_baseline', label: 'Δ baseline', numeric: true},
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

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function deltaClass(value) {
  if (value === null || value === undefined) return 'neutral';
  return value > 0 ? 'gain' : value < 0 ? 'loss' : 'neutral';
}

function cell(row, column) {
  const value = row[column.key];
  const monitor = row.monitor;
  if (column.key === 'best') return formatValue(value, monitor);
  if (column.key.startsWith('delta')) return formatDelta(value, monitor);
  if (column.key === 'wall_time') return formatSeconds(value);
  return value === null || value === undefined ? '–' : String(value);
}

function sortRows(rows, key, ascending) {
  const sorted = [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return a.rank - b.rank;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * (ascending ? 1 : -1);
  });
  return sorted;
}

function renderTable(state) {
  const table = el('table', {id: 'ladder-table', class: 'ladder'});
  const header = el('tr');
  for (const column of COLUMNS) {
    const arrow = state.sortKey === column.key ? (state.ascending ? ' ▲' : ' ▼') : '';
    const th = el('th', {'data-key': column.key, class: column.numeric ? 'numeric' : ''},
                  column.label + arrow);
    th.addEventListener('click', () => {
      state.ascending = state.sortKey === column.key ? !state.ascending : true;
      state.sortKey = column.key;
      rerender(state);
    });
    header.append(th);
  }
  table.append(el('thead', {}, header));
  const body = el('tbody');
  for (const row of sortRows(state.rows, state.sortKey, state.ascending)) {
    const tr = el('tr', {
      class: 'ladder-row' + (row.run === state.selected ? ' selected' : ''),
      'data-run': row.run,
      'data-rank': row.rank,
      'data-best': row.best,
      'data-delta-previous': row.delta_previous,
      'data-delta-baseline': row.delta_baseline,
    });
    for (const column of COLUMNS) {
      const classes = [column.numeric ? 'numeric' : '', `col-${column.key}`];
      if (column.key.startsWith('delta')) classes.push(deltaClass(row[column.key]));
      tr.append(el('td', {class: classes.join(' ')}, cell(row, column)));
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
  const top = 28;
  const bottom = 46;
  const chart = svg('svg', {id: 'ladder-chart', width, height, viewBox: `0 0 ${width} ${height}`});
  const values = rows.map((row) => row.best).filter((v) => v !== null && v !== undefined);
  const maximum = isAccuracy(rows[0] && rows[0].monitor) ? 1 : Math.max(...values, 1e-9);
  const scale = (value) => ((height - top - bottom) * value) / maximum;
  chart.append(svg('line', {x1: 40, x2: width - 10, y1: height - bottom, y2: height - bottom,
                            class: 'axis'}));
  rows.forEach((row, i) => {
    const x = 50 + i * 110;
    const barHeight = row.best === null || row.best === undefined ? 0 : scale(row.best);
    const y = height - bottom - barHeight;
    const group = svg('g', {class: `bar ${i === 0 ? 'baseline' : deltaClass(row.delta_previous)}`,
                            'data-run': row.run});
    group.append(svg('rect', {x, y, width: 80, height: barHeight}));
    group.append(svg('text', {x: x + 40, y: y - 16, class: 'value'},
                     formatValue(row.best, row.monitor)));
    group.append(svg('text', {x: x + 40, y: y - 4, class: 'delta'},
                     i === 0 ? 'baseline' : formatDelta(row.delta_previous, row.monitor)));
    const label = row.change.length > 16 ? row.change.slice(0, 15) + '…' : row.change;
    group.append(svg('text', {x: x + 40, y: height - bottom + 16, class: 'label'}, label));
    group.append(svg('text', {x: x + 40, y: height - bottom + 30, class: 'label rank'},
                     `#${row.rank}`));
    group.append(svg('title', {}, `${row.run}: ${row.change}`));
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

function renderWorst(detail) {
  const names = detail.class_names || [];
  const grid = el('div', {class: 'worst', id: 'worst-predictions'});
  (detail.worst || []).forEach((item, index) => {
    const figure = el('figure', {class: 'worst-item'});
    if (index < detail.num_images) {
      const query = `run=${encodeURIComponent(detail.run)}&index=${index}`;
      figure.append(el('img', {src: `worst_image?${query}`, alt: `worst prediction ${index}`}));
    }
    figure.append(el('figcaption', {},
        el('span', {class: 'true'}, `true ${names[item.true] ?? item.true}`),
        el('br'),
        el('span', {class: 'predicted'},
           `pred ${names[item.predicted] ?? item.predicted} (${item.predicted_probability.toFixed(2)})`)));
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
      ? el('ul', {class: 'changes'}, ...detail.changes.map((line) => el('li', {}, line)))
      : el('p', {class: 'hint'}, 'No CheckpointOnChange version recorded for this run.');
    target.replaceChildren(
      el('h2', {id: 'detail-title'}, `${detail.change} `, el('small', {}, `(${run})`)),
      el('p', {}, `best ${detail.monitor}: ${formatValue(detail.best, detail.monitor)} ` +
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
  document.getElementById('ladder').replaceChildren(
    el('p', {class: 'hint'},
       `${state.rows.length} runs in ladder order; best ${monitor}; Δ versus the previous run ` +
       'and the first (baseline). Click a column to sort, a row or bar for details.'),
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
  // The entry page's query may pick the initial sort: `&sort=best&direction=desc`.
  const query = new URLSearchParams(window.location.search);
  const sortKey = COLUMNS.some((c) => c.key === query.get('sort')) ? query.get('sort') : 'rank';
  const state = {rows: ladder.runs, sortKey, ascending: query.get('direction') !== 'desc',
                 selected: null, badRuns: ladder.bad_runs || []};
  if (!state.rows.length) {
    document.getElementById('ladder').replaceChildren(el('p', {class: 'hint'},
        'No run has an Accuracy Kit summary yet: train with kit.callbacks.AccuracyReport.'),
        renderBadRuns(state.badRuns));
    return;
  }
  const best = state.rows.reduce((a, b) => ((b.best ?? -Infinity) > (a.best ?? -Infinity) ? b : a));
  rerender(state);
  await select(state, best.run);
}
