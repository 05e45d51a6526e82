"""Firmware updates: releases side by side, bundles and their signatures, the update guard."""
