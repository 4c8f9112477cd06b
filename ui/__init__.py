"""The what-if page (``streamlit run ui/app.py``): a thin shell over the optimiser package."""
