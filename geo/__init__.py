"""Geospatial core: official sources, readers, LSOA vintages, geometry and the national atlas."""
