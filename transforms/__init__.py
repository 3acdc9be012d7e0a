"""Pure DataFrame -> DataFrame functions: no I/O, no SparkSession creation."""
