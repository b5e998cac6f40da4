"""Reader-study statistics: ROC/DeLong, MRMC (Obuchowski-Rockette, DBM), reading time,
accuracy, lesion-level scores, sample size and a reader-study simulator.

Pure Python (numpy, scipy, statsmodels, pandas); no Django. See docs/reader-study-analysis.md.
"""
