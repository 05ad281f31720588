"""The regional network: real England, regions of it, and a synthetic teaching region."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.region import REGIONS, england, synthetic


def test_england_has_153_authorities_in_nine_regions():
    r = england()
    assert r.n_la == 153 and r.n_nodes == 459
    assert set(r.la_region) == set(REGIONS)
    assert 11.5e6 < r.la_children.sum() < 12.5e6


def test_a_region_is_its_authorities():
    r = england("North West")
    assert r.n_la == 24 and set(r.la_region) == {"North West"}


def test_an_unknown_region_is_refused():
    with pytest.raises(ValueError, match="North West"):
        england("Nowhere")


def test_distances_are_road_miles_between_places():
    r = england("London")
    d = r.distance
    assert np.allclose(d, d.T) and (d > 0).all()
    # Camden to Croydon is about 11 miles as the crow flies; by road, more.
    names = list(r.la_name)
    camden, croydon = 3 * names.index("Camden") + 1, 3 * names.index("Croydon") + 1
    assert 11 < d[camden, croydon] < 20


def test_the_network_is_connected_and_weighted():
    for r in (england("North East"), synthetic()):
        assert nx.is_connected(r.graph)
        assert all(data["miles"] > 0 for *_, data in r.graph.edges(data=True))


def test_neighbourhood_shares_sum_to_one():
    r = england()
    assert np.allclose(r.node_share.reshape(-1, 3).sum(axis=1), 1)
