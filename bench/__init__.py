"""Benchmarks: the LangChain recipe side by side, our stage costs, the scale curve. Run: python -m bench.run"""
