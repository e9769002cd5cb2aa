"""Legends placed where the data is not.

matplotlib's ``loc="best"`` counts the data vertices under each candidate box, so a dense line whose segments cross
a box between two vertices, a filled bar or a mesh cell can still end up under the legend. :func:`place_legends`
measures what each candidate box would cover, in display coordinates once the figure's layout is done, and keeps
the first box that covers nothing, well clear of it if it can: lines (their segments and markers), bars and steps,
bands, scatter points, mesh cells and annotations. When every box inside the axes covers something, the legend goes
outside, to the right of the axes, and the layout makes room for it.

Call :func:`place_legends` last, once every panel of a figure is drawn and its limits are set: the figure
functions of :mod:`sim.report` do, and a figure composed of their panels should too.
"""

import numpy as np
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.transforms import Bbox

#: Candidate places inside the axes, in order of preference.
INSIDE = (
    "upper right",
    "upper left",
    "lower right",
    "lower left",
    "upper center",
    "lower center",
    "center right",
    "center left",
)
#: Where a legend goes when no place inside is free: just right of the axes, top-aligned.
OUTSIDE_ANCHOR = (1.01, 1.0)
_PAD_PX = 3.0  # a line this close to a legend's frame counts as under it
_CLEAR_PX = 12.0  # a place this far from any data is preferred to one merely free


def _has(style):
    return style not in (None, "None", "none", "", " ")


def _points_hit(points, box, radius):
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        return False
    return bool(
        (
            (pts[:, 0] >= box.x0 - radius)
            & (pts[:, 0] <= box.x1 + radius)
            & (pts[:, 1] >= box.y0 - radius)
            & (pts[:, 1] <= box.y1 + radius)
        ).any()
    )


def _path_hit(path, box, filled):
    """A display-space path crosses (or, filled, covers) the box; NaN vertices split a line as matplotlib draws it."""
    verts = path.vertices
    good = np.isfinite(verts).all(axis=1)
    if good.all():
        return path.intersects_bbox(box, filled=filled)
    from matplotlib.path import Path

    runs = np.split(verts, np.flatnonzero(~good))
    return any(
        Path(run[np.isfinite(run).all(axis=1)]).intersects_bbox(box, filled=False)
        for run in runs
        if np.isfinite(run).all(axis=1).sum() > 1
    ) or _points_hit(verts, box, 0.0)


def _mesh_hit(mesh, box):
    coords = mesh.get_transform().transform(mesh.get_coordinates().reshape(-1, 2)).reshape(mesh.get_coordinates().shape)
    values = np.ma.masked_invalid(np.ma.asarray(mesh.get_array())).reshape(coords.shape[0] - 1, coords.shape[1] - 1)
    shown = ~np.ma.getmaskarray(values)
    x0, y0 = np.minimum(coords[:-1, :-1, 0], coords[1:, 1:, 0]), np.minimum(coords[:-1, :-1, 1], coords[1:, 1:, 1])
    x1, y1 = np.maximum(coords[:-1, :-1, 0], coords[1:, 1:, 0]), np.maximum(coords[:-1, :-1, 1], coords[1:, 1:, 1])
    hit = (x1 >= box.x0) & (x0 <= box.x1) & (y1 >= box.y0) & (y0 <= box.y1)
    return bool((hit & shown).any())


def covered(ax, box, renderer=None):
    """How many of the axes' data artists the display-space ``box`` covers (0: the box is free)."""
    renderer = renderer or ax.figure._get_renderer()
    dpi_px = ax.figure.dpi / 72.0
    legend = ax.get_legend()
    count = 0
    for line in ax.get_lines():
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        path = line.get_transform().transform_path(line.get_path())
        if _has(line.get_linestyle()) and line.get_linewidth() > 0 and len(path.vertices) > 1:
            count += _path_hit(path, box, filled=False)
        elif _has(line.get_marker()):
            count += _points_hit(path.vertices, box, line.get_markersize() * dpi_px / 2)
    for patch in ax.patches:
        # a span over the whole height or width (axvspan, axhspan) shades the background: a legend may sit on it
        if patch.get_visible() and patch.get_data_transform() == ax.transData:
            path = patch.get_transform().transform_path(patch.get_path())
            count += _path_hit(path, box, filled=bool(patch.get_fill()))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, QuadMesh):
            count += _mesh_hit(coll, box)
        elif isinstance(coll, PathCollection) and len(coll.get_offsets()):
            points = coll.get_offset_transform().transform(coll.get_offsets())
            sizes = coll.get_sizes()
            count += _points_hit(points, box, (np.sqrt(sizes.max()) if len(sizes) else 6.0) * dpi_px / 2)
        else:
            transform = coll.get_transform()
            count += any(_path_hit(transform.transform_path(p), box, filled=True) for p in coll.get_paths())
    for text in ax.texts:
        if text.get_visible() and text is not legend and text.get_text().strip():
            count += box.overlaps(text.get_window_extent(renderer))
    return count


def _inside(legend, loc):
    legend.set_loc(loc)
    legend.set_bbox_to_anchor(None)


def _outside(legend, ax):
    legend.set_loc("upper left")
    legend.set_bbox_to_anchor(OUTSIDE_ANCHOR, transform=ax.transAxes)


def legend_box(legend, renderer=None, pad=_PAD_PX):
    """The legend's frame in display coordinates, grown by ``pad`` pixels on every side."""
    box = legend.get_window_extent(renderer or legend.figure._get_renderer())
    return Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)


def _free_place(ax, legend, renderer):
    """The first place of :data:`INSIDE` well clear of the data, else the first merely free, else None."""
    for pad in (_CLEAR_PX, _PAD_PX):
        for loc in INSIDE:
            _inside(legend, loc)
            if not covered(ax, legend_box(legend, renderer, pad), renderer):
                return loc
    return None


def lay_out(fig):
    """Do what a draw does to ``fig`` before it paints, and nothing more: run the figure's layout engine, apply the
    axes' aspect ratios to the positions it set (as each Axes does when it draws) and bring autoscaled view limits up
    to date. Returns the renderer to measure with.

    Every position and size :func:`covered` measures is then what the next draw paints, as long as nothing is added
    or moved in between. A draw (``draw_without_rendering``) would also walk every artist, tick and text, which for
    the cascade picture costs about as much again as the layout itself and changes nothing measured here.
    """
    renderer = fig._get_renderer()
    engine = fig.get_layout_engine()
    if fig.axes and engine is not None:
        engine.execute(fig)
    for ax in fig.axes:
        locator = ax.get_axes_locator()
        ax.apply_aspect(locator(ax, renderer) if locator else None)
        ax.viewLim  # noqa: B018 (reading it applies a pending autoscale; transData uses the limits as they stand)
    return renderer


def place_legends(fig, axes=None):
    """Move each legend of ``fig`` (or of ``axes``) to the first place inside its axes where it covers no data, else
    outside to the right of its axes; returns ``{axes: place}`` (a :data:`INSIDE` name or ``"outside"``).

    Legends anchored by their caller (``bbox_to_anchor`` given) and those of axes drawn without axis lines (a panel
    that only holds a legend) are left where they are.
    """
    todo = []
    for ax in fig.axes if axes is None else axes:
        legend = ax.get_legend()
        if legend is None or not ax.axison:
            continue
        if legend.get_bbox_to_anchor() is not ax.bbox and not getattr(legend, "_liqsim_placed", False):
            continue
        legend._liqsim_placed = True
        _inside(legend, INSIDE[0])
        todo.append((ax, legend))
    places = {}
    for _ in range(3):  # a legend moved outside narrows the axes: look at the ones left inside again
        renderer = lay_out(fig)
        moved = False
        for ax, legend in todo:
            if places.get(ax) == "outside":
                continue
            loc = _free_place(ax, legend, renderer)
            if loc is not None:
                _inside(legend, loc)
                places[ax] = loc
            else:
                _outside(legend, ax)
                places[ax] = "outside"
                moved = True
        if not moved:
            break
    return places
