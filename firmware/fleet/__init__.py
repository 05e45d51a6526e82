"""`pievse fleet`: many bench boxes, each the real controller, against one CSMS."""
