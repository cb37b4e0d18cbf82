"""Routes of the REST v1 line: architecture and calibration, and the job API of each device."""
