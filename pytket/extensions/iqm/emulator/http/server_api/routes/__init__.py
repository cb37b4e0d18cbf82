"""Routes of the IQM Server API line: the catalogue (computers, calibrations) and jobs."""
